import Foundation
import IsoMerge
import XCTest

/// The output rules (`OutputTarget`), through the tool: outputs never replace inputs, two outputs
/// never overlap, and a directory output ends up holding exactly the new checkpoint.
final class OutputRuleTests: CommandLineTestCase {
    func merge(_ base: String, _ models: [String], _ extra: [String]) throws -> CommandResult {
        try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models + ["--quiet"] + extra)
    }

    func testOutputAndSavedTaskVectorAtOnePlaceIsAUsageErrorBeforeAnythingIsWritten() throws {
        let (base, models) = try models()
        let before = try snapshot(directory)
        for (output, tau) in [("same.safetensors", "same.safetensors"), ("out", "out/model.safetensors"), ("out", "out/")] {
            for overwrite in [[], ["--overwrite"]] {
                let result = try merge(base, models, ["--output", directory + "/" + output, "--save-task-vector", directory + "/" + tau] + overwrite)
                XCTAssertEqual(result.status, 2, "\(output) \(tau): \(result.stderr)")
                XCTAssertTrue(result.stderr.contains("would write over each other"), result.stderr)
                XCTAssertEqual(try snapshot(directory), before, "\(output) \(tau) wrote something")
            }
        }
    }

    func testAnOutputNeverReplacesAnInput() throws {
        let (base, models) = try models()
        // A sharded input, a symbolic and a hard link to an input, a directory holding an input.
        let sharded = directory + "/sharded"
        XCTAssertEqual(try merge(base, models, ["--output", sharded, "--shard-size", "300"]).status, 0)
        let shard = try FileManager.default.contentsOfDirectory(atPath: sharded).filter { $0.hasPrefix("model-00001") }.first!
        try FileManager.default.createSymbolicLink(atPath: directory + "/link.safetensors", withDestinationPath: models[1])
        XCTAssertEqual(link(models[2], directory + "/hard.safetensors"), 0)
        let holder = directory + "/holder"
        try FileManager.default.createDirectory(atPath: holder, withIntermediateDirectories: false)
        let held = try write("holder/model.safetensors", [("layer.weight", [12, 8], [Float](repeating: 1, count: 96)),
                                                          ("layer.bias", [8], [Float](repeating: 1, count: 8)),
                                                          ("head.weight", [5, 7], [Float](repeating: 1, count: 35))])
        let before = try snapshot(directory)
        let cases: [(inputs: [String], output: String)] = [
            ([base, models[0]], models[0]), ([base, models[0]], base),
            ([base, models[1]], directory + "/link.safetensors"), ([base, models[2]], directory + "/hard.safetensors"),
            ([base, sharded], sharded + "/" + shard), ([base, sharded], sharded), ([base, sharded + "/model.safetensors.index.json"], sharded),
            ([base, holder], holder), ([base, held], holder), ([base, held], directory),
        ]
        for (inputs, output) in cases {
            for flag in ["--output", "--save-task-vector"] {
                for overwrite in [[], ["--overwrite"]] {
                    var arguments = ["--models"] + inputs.dropFirst() + [flag, output] + overwrite
                    if flag == "--save-task-vector" { arguments += ["--output", logPath() + ".safetensors"] }
                    let result = try Isomerge.run(["merge", "--method", "average", "--base", inputs[0], "--quiet"] + arguments)
                    XCTAssertEqual(result.status, 1, "\(flag) \(output) \(overwrite): \(result.stderr)")
                    XCTAssertTrue(result.stderr.contains("input"), result.stderr)
                    XCTAssertEqual(try snapshot(directory), before, "\(flag) \(output) \(overwrite) changed a file")
                }
            }
        }
        // apply and svd follow the same rule.
        let tau = directory + "/tau"
        XCTAssertEqual(try merge(base, models, ["--output", directory + "/m.safetensors", "--save-task-vector", tau + ".safetensors"]).status, 0)
        let applied = try Isomerge.run(["apply", "--base", base, "--task-vector", tau + ".safetensors", "--alpha", "1", "--output", base, "--overwrite"])
        XCTAssertEqual(applied.status, 1, applied.stderr)
        let svd = try Isomerge.run(["svd", base, "--output", base, "--overwrite"])
        XCTAssertEqual(svd.status, 1, svd.stderr)
        XCTAssertEqual(try snapshot(directory)[URL(fileURLWithPath: base).lastPathComponent], before[URL(fileURLWithPath: base).lastPathComponent])
    }

    /// One file, then shards, then fewer shards, then one file again into one directory: each time
    /// it holds exactly the new checkpoint, and what else it held is kept.
    func testADirectoryOutputHoldsExactlyTheNewCheckpoint() throws {
        let (base, models) = try models()
        let output = directory + "/out"
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: false)
        try Data("{\"architectures\": []}".utf8).write(to: URL(fileURLWithPath: output + "/config.json"))
        XCTAssertEqual(try merge(base, models, ["--output", output]).status, 0)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: output)), ["config.json", "model.safetensors"])
        let again = try merge(base, models, ["--output", output, "--shard-size", "100"])
        XCTAssertEqual(again.status, 1, "an existing checkpoint needs --overwrite")
        XCTAssertTrue(again.stderr.contains("already exists"), again.stderr)
        for (shardSize, shards) in [("100", 4), ("400", 2), (nil, 0)] as [(String?, Int)] {
            let result = try Isomerge.run(["merge", "--method", "ties", "--base", base, "--models"] + models
                                          + ["--output", output, "--overwrite", "--quiet"] + (shardSize.map { ["--shard-size", $0] } ?? []))
            XCTAssertEqual(result.status, 0, result.stderr)
            let names = Set(try FileManager.default.contentsOfDirectory(atPath: output))
            var expected: Set<String> = ["config.json"]
            if shards == 0 {
                expected.insert("model.safetensors")
            } else {
                expected.insert("model.safetensors.index.json")
                for i in 1...shards { expected.insert("model-0000\(i)-of-0000\(shards).safetensors") }
            }
            XCTAssertEqual(names, expected, "shard size \(shardSize ?? "none")")
            let checkpoint = try Checkpoint(path: output)
            XCTAssertEqual(checkpoint.metadataValue("isomerge.method"), "ties")
            XCTAssertEqual(try hiddenEntries(directory), [])
        }
        XCTAssertEqual(try String(contentsOfFile: output + "/config.json", encoding: .utf8), "{\"architectures\": []}")
        // A subdirectory cannot be carried into the new directory: refused, nothing changed.
        try FileManager.default.createDirectory(atPath: output + "/tokenizer", withIntermediateDirectories: false)
        let before = try snapshot(directory)
        let refused = try merge(base, models, ["--output", output, "--overwrite"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("tokenizer/"), refused.stderr)
        XCTAssertEqual(try snapshot(directory), before)
    }
}
