import Foundation
import IsoMerge
import isomerge
import XCTest

/// Signals during merges, sharded writes and α searches: SIGINT and SIGTERM leave no temporary
/// and no partial output, change no input or earlier output, and exit with 128 + the signal;
/// after SIGKILL the next run removes what the killed process left — and nothing else.
final class InterruptionTests: CommandLineTestCase {
    /// A merge that takes seconds: Iso-CTS on one thread over 32 matrices of 384 × 384.
    func slowMerge(output: String, extra: [String] = []) throws -> (ChildProcess, arguments: [String]) {
        let (base, models) = try models(shapes: (0..<32).map { ("block.\($0).weight", [384, 384]) }, prefix: "slow_")
        let arguments = ["merge", "--method", "iso_cts", "--threads", "1", "--base", base, "--models"] + models
            + ["--output", output, "--quiet"] + extra
        return (try Isomerge.start(arguments, output: logPath()), arguments)
    }

    /// Waits (bounded) for the child to end; kills it and fails if it does not.
    func finish(_ child: ChildProcess, within seconds: Double = 60, file: StaticString = #filePath, line: UInt = #line) -> Int32? {
        if let status = child.wait(timeout: seconds) { return status }
        child.signal(SIGKILL)
        _ = child.wait(timeout: 10)
        XCTFail("the tool did not end within \(seconds) s", file: file, line: line)
        return nil
    }

    func testSIGINTDuringAMergeRemovesItsTemporaryFile() throws {
        let output = directory + "/out.safetensors"
        let (child, _) = try slowMerge(output: output)
        let before = try snapshot(directory)
        let started = try waitUntil(timeout: 60) { try !hiddenEntries(directory).isEmpty }
        XCTAssertTrue(started, "no temporary file appeared")
        child.signal(SIGINT)
        XCTAssertEqual(finish(child), 130)
        XCTAssertEqual(try hiddenEntries(directory), [])
        XCTAssertEqual(try snapshot(directory), before, "an input changed or an output appeared")
    }

    func testSIGTERMDuringAShardedWriteKeepsTheOldDirectoryWhole() throws {
        let (base, models) = try models()
        let output = directory + "/out"
        let first = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models + ["--output", output, "--quiet"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let (child, _) = try slowMerge(output: output, extra: ["--shard-size", "300000", "--overwrite"])
        let before = try snapshot(directory)
        let writing = try waitUntil(timeout: 60) {
            try hiddenEntries(directory).contains { !((try? FileManager.default.contentsOfDirectory(atPath: directory + "/" + $0)) ?? []).isEmpty }
        }
        XCTAssertTrue(writing, "no shard appeared in a temporary directory")
        child.signal(SIGTERM)
        XCTAssertEqual(finish(child), 143)
        XCTAssertEqual(try hiddenEntries(directory), [])
        XCTAssertEqual(try snapshot(directory), before, "the old output or an input changed")
    }

    func testSIGINTDuringTheAlphaSearchEndsTheEvaluatorAndRemovesTheScratchDirectory() throws {
        let (base, models) = try models()
        let pidFile = logPath()
        let child = try Isomerge.start(["merge", "--method", "iso_c", "--base", base, "--models"] + models
                                       + ["--output", directory + "/best.safetensors", "--alpha-grid", "0.5:1.5:0.5",
                                          "--save-task-vector", directory + "/tau.safetensors",
                                          "--evaluate", "test -f {checkpoint} && echo $$ > \(shellQuote(pidFile)) && exec sleep 60"],
                                       output: logPath())
        let before = try snapshot(directory)
        let evaluating = waitUntil(timeout: 60) { ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").hasSuffix("\n") }
        XCTAssertTrue(evaluating, "the evaluator did not start")
        child.signal(SIGINT)
        XCTAssertEqual(finish(child, within: 30), 130)
        XCTAssertEqual(try hiddenEntries(directory), [])
        XCTAssertEqual(try snapshot(directory), before)
        let evaluator = pid_t((try String(contentsOfFile: pidFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines))!
        XCTAssertTrue(waitUntil(timeout: 10) { Self.isGone(evaluator) }, "the evaluator \(evaluator) still runs")
    }

    /// SIGKILL cannot be handled: the temporaries stay, and the next run writing beside them
    /// removes them, but never a temporary whose maker lives or a name that is not the tool's.
    func testAfterSIGKILLTheNextRunRemovesTheDeadProcesssTemporariesOnly() throws {
        let (child, _) = try slowMerge(output: directory + "/out", extra: ["--shard-size", "300000"])
        let started = try waitUntil(timeout: 60) { try !hiddenEntries(directory).isEmpty }
        XCTAssertTrue(started, "no temporary appeared")
        child.signal(SIGKILL)
        XCTAssertEqual(finish(child), 137)
        let leftovers = try hiddenEntries(directory)
        XCTAssertEqual(leftovers.count, 1, "\(leftovers)")
        let kept = [".keep.safetensors.tmp-\(getpid())-1-0", ".notes.tmp-1", "notes.safetensors.tmp-1-2-3", ".x.tmp-1-2"]
        for name in kept { XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/" + name, contents: Data("mine".utf8))) }
        let (base, models) = try models()
        let rerun = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models
                                     + ["--output", directory + "/other.safetensors", "--quiet"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try hiddenEntries(directory), kept.filter { $0.hasPrefix(".") }.sorted())
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/notes.safetensors.tmp-1-2-3"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/out"))
    }

    /// A task vector saved in a directory of its own: the next run saving one there removes what a
    /// killed run left beside it, as beside the checkpoint — also temporaries of outputs whose names
    /// hold a dash, and one made beside another (a directory task vector's).
    func testTheNextRunRemovesADeadProcesssTemporariesBesideTheTaskVector() throws {
        let vectors = directory + "/vectors"
        try FileManager.default.createDirectory(atPath: vectors, withIntermediateDirectories: false)
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        for name in [".tau.safetensors.tmp-\(dead)-1-0", ".run-2.tmp-\(dead)-1-0", "..tau.tmp-\(dead)-1-0.tmp-\(dead)-2-0"] {
            let stale = vectors + "/" + name
            try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
            XCTAssertTrue(FileManager.default.createFile(atPath: stale + "/tau.safetensors", contents: Data("partial".utf8)))
        }
        let (base, models) = try models()
        let rerun = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models
                                     + ["--output", directory + "/out.safetensors", "--save-task-vector", vectors + "/tau.safetensors", "--quiet"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(try hiddenEntries(vectors), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: vectors), ["tau.safetensors"])
    }

    /// Whether no process `pid` runs (gone, or a zombie nobody reaped).
    static func isGone(_ pid: pid_t) -> Bool {
        if kill(pid, 0) != 0 { return true }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}
