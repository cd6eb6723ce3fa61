import Foundation
import isomerge
import XCTest

/// How the tool treats its command line and its terminal: usage errors name the flag and exit 2,
/// `-h` is help, a failed write to stdout is an error, likely mistakes in the inputs are warned
/// about, the evaluator gets the candidate's path whatever its quoting, and the progress line
/// fits the terminal.
final class CommandBehaviourTests: CommandLineTestCase {
    func testOutOfRangeParametersAreUsageErrorsNamingTheFlag() throws {
        let (base, models) = try models()
        for (flag, value, method) in [("--density", "0", "ties"), ("--density", "1.5", "ties"), ("--common-fraction", "1.5", "iso_cts"),
                                      ("--common-fraction", "-0.1", "iso_cts")] {
            let result = try Isomerge.run(["merge", "--method", method, "--base", base, "--models"] + models
                                          + ["--output", directory + "/x.safetensors", flag, value])
            XCTAssertEqual(result.status, 2, "\(flag) \(value): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(flag), result.stderr)
        }
        XCTAssertEqual(try hiddenEntries(directory), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/x.safetensors"))
    }

    func testDashHIsHelpForEveryCommand() throws {
        for command in ["merge", "apply", "analyze", "svd", "inspect", "demo"] {
            let result = try Isomerge.run([command, "-h"])
            XCTAssertEqual(result.status, 0, "\(command): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("usage: isomerge \(command)"), result.stdout)
        }
    }

    func testAFullStandardOutputIsAnError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/full"), "no /dev/full on this system")
        let (base, _) = try models()
        for arguments in ["merge --help", "inspect \(shellQuote(base))", "--version"] {
            let result = try Isomerge.shell("exec \"$ISOMERGE\" \(arguments) > /dev/full")
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("cannot write to standard output"), result.stderr)
        }
    }

    func testRepeatedModelsAndTheBaseAsAModelAreWarnedAbout() throws {
        let (base, models) = try models()
        let link = directory + "/again.safetensors"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: models[0])
        let result = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models", models[0], models[1], link, base,
                                       "--output", directory + "/out.safetensors", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: the model \(link) is given twice (also as \(models[0]))"), result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: the model \(base) is the base"), result.stderr)
        let plain = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models
                                     + ["--output", directory + "/plain.safetensors", "--quiet"])
        XCTAssertEqual(plain.stderr, "")
    }

    /// `{checkpoint}` bare, in double quotes, in single quotes, in `$(…)` and backquotes within
    /// double quotes, and after a comment holding an apostrophe, with a path holding a space, a
    /// quote and a dollar sign; and without `{checkpoint}` the command is a usage error.
    func testTheEvaluatorGetsThePathWhateverItsQuoting() throws {
        let odd = directory + "/it's a $HOME dir"
        try FileManager.default.createDirectory(atPath: odd, withIntermediateDirectories: false)
        let base = try write("it's a $HOME dir/base.safetensors", [("w", [2, 2], [0, 0, 0, 0])])
        let tuned = try write("it's a $HOME dir/tuned.safetensors", [("w", [2, 2], [1, 0, 0, 0.25])])
        let seen = logPath()
        for evaluator in ["test -f {checkpoint} && echo {checkpoint} >> \(shellQuote(seen)) && echo 1",
                          "test -f \"{checkpoint}\" && echo \"{checkpoint}\" >> \(shellQuote(seen)) && echo 1",
                          "sh -c 'test -f \"$1\" && echo \"$1\"' - '{checkpoint}' >> \(shellQuote(seen)) && echo 1",
                          "p=\"$(echo '{checkpoint}')\"; test -f \"$p\" && echo \"$p\" >> \(shellQuote(seen)) && echo 1",
                          "p=\"`echo {checkpoint}`\"; test -f \"$p\" && echo \"$p\" >> \(shellQuote(seen)) && echo 1",
                          "# it's the path\ntest -f {checkpoint} && echo {checkpoint} >> \(shellQuote(seen)) && echo 1"] {
            let output = odd + "/best.safetensors"
            let result = try Isomerge.run(["merge", "--method", "task_arithmetic", "--base", base, "--models", tuned, "--output", output,
                                           "--alpha-grid", "0.5:1.0:0.5", "--evaluate", evaluator, "--overwrite", "--quiet"])
            XCTAssertEqual(result.status, 0, "\(evaluator): \(result.stderr)")
        }
        let lines = try String(contentsOfFile: seen, encoding: .utf8).split(separator: "\n")
        // Flat scores on a two-value grid: 0.5 and 1.0, then the grid continued upward (1.5, 2.0) until
        // three candidates in a row have not improved (0.5 − 0.5 is not a positive α): 4 per evaluator.
        XCTAssertEqual(lines.count, 24)
        for line in lines { XCTAssertTrue(line.hasPrefix(odd + "/.isomerge-search.tmp-"), String(line)) }
        XCTAssertEqual(try hiddenEntries(odd), [])

        let (plainBase, models) = try models()
        let missing = try Isomerge.run(["merge", "--method", "average", "--base", plainBase, "--models"] + models
                                       + ["--output", directory + "/x.safetensors", "--alpha-grid", "0.5:1.0:0.5", "--evaluate", "echo 1"])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("{checkpoint}"), missing.stderr)
    }

    func testTheProgressLineFitsTheTerminal() throws {
        let name = "encoder.layers.11.self_attention.output_projection.weight"
        let tail = "  1.2 MiB / 3.4 MiB  0.5s elapsed, ETA 1.0s"
        XCTAssertEqual(ProgressLine.fit(head: "[1/9] merge: ", name: "w", tail: tail, width: 79), "[1/9] merge: w" + tail)
        for width in [1, 5, 20, 40, 60, 79, 200] {
            let line = ProgressLine.fit(head: "[1/9] merge: ", name: name, tail: tail, width: width)
            XCTAssertLessThanOrEqual(line.count, width, line)
        }
        XCTAssertEqual(ProgressLine.fit(head: "[1/9] merge: ", name: name, tail: tail, width: 79),
                       "[1/9] merge: …" + name.suffix(79 - 13 - tail.count - 1) + tail)

        // Through a pseudo-terminal without a size: $COLUMNS decides.
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "no script(1) for a pseudo-terminal")
        let base = try write("base.safetensors", [(name, [16, 16], [Float](repeating: 0, count: 256))])
        let tuned = try write("tuned.safetensors", [(name, [16, 16], [Float](repeating: 1, count: 256))])
        let merge = ["\"$ISOMERGE\"", "merge", "--method", "iso_c", "--base", base, "--models", tuned, "--output",
                     directory + "/out.safetensors"].map { $0.hasPrefix("\"") ? $0 : shellQuote($0) }.joined(separator: " ")
        let result = try Isomerge.shell("COLUMNS=50 script -qfec \(shellQuote(merge)) /dev/null < /dev/null")
        XCTAssertEqual(result.status, 0, result.stderr)
        let redraws = result.stdout.components(separatedBy: "\r\u{1B}[2K").dropFirst()
        XCTAssertFalse(redraws.isEmpty, result.stdout)
        for line in redraws where line.hasPrefix("[") { XCTAssertLessThanOrEqual(line.count, 49, line) }
    }
}
