import Foundation
import IsoMerge
import isomerge
import XCTest

/// `merge --part I/N` and `--finish N`: N separate processes, started together and in reverse
/// order, then the finishing step, give files that `cmp` finds identical to the one-process merge
/// with the same shard size, for every method; a missing, killed, changed or differently made part
/// is named by the finishing step, which then writes no index.
final class SplitMergeTests: CommandLineTestCase {
    /// Eight matrices (three taller than wide) and their biases, 3 tasks; written on first use.
    private var inputs: (base: String, models: [String])?

    func splitModels() throws -> (base: String, models: [String]) {
        if let inputs { return inputs }
        inputs = try models(shapes: (0..<8).flatMap { i in [("block.\(i).weight", i % 3 == 0 ? [40, 24] : [24, 32]), ("block.\(i).bias", [24])] })
        return inputs!
    }

    /// The merge arguments shared by the parts, the finishing step and the one-process merge.
    func mergeArguments(_ method: String, output: String, extra: [String] = []) throws -> [String] {
        let (base, models) = try splitModels()
        return ["merge", "--method", method, "--base", base, "--models"] + models + ["--output", output, "--shard-size", "8000", "--quiet"]
            + extra
    }

    /// Runs parts N…1 of `arguments` side by side; fails on a part that fails.
    func runParts(_ arguments: [String], parts: Int, only: [Int]? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let children = try (only ?? Array(1...parts)).reversed().map { part in
            (part, try Isomerge.start(arguments + ["--part", "\(part)/\(parts)"], output: logPath()))
        }
        for (part, child) in children {
            XCTAssertEqual(child.wait(timeout: 120), 0, "part \(part) of \(parts) failed", file: file, line: line)
        }
    }

    /// `cmp` of every file of `expected` with its namesake in `actual`, which holds no other entry.
    func assertSameFiles(_ expected: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: expected).sorted()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: actual).sorted(), names, file: file, line: line)
        XCTAssertTrue(names.contains(CheckpointWriter.indexName), "the outputs are not sharded", file: file, line: line)
        for name in names {
            let compared = try Isomerge.shell("cmp \(shellQuote(expected + "/" + name)) \(shellQuote(actual + "/" + name))")
            XCTAssertEqual(compared.status, 0, "\(name): \(compared.stdout)\(compared.stderr)", file: file, line: line)
        }
    }

    func testPartsInSeparateProcessesGiveTheOneProcessMergesBytesForEveryMethod() throws {
        let variants: [(String, [String])] = MergeRules.standard.names.map { ($0, []) }
            + [("ties", ["--ties-per-tensor", "--precision", "float64"]), ("iso_c", ["--output-dtype", "BF16", "--alpha", "0.7"])]
        for (method, extra) in variants {
            let whole = directory + "/whole-\(method)-\(extra.count)", split = directory + "/split-\(method)-\(extra.count)"
            let one = try Isomerge.run(try mergeArguments(method, output: whole, extra: extra))
            XCTAssertEqual(one.status, 0, one.stderr)
            let arguments = try mergeArguments(method, output: split, extra: extra)
            try runParts(arguments, parts: 3)
            XCTAssertFalse(FileManager.default.fileExists(atPath: split + "/" + CheckpointWriter.indexName), "complete before --finish")
            let finished = try Isomerge.run(arguments + ["--finish", "3"])
            XCTAssertEqual(finished.status, 0, finished.stderr)
            try assertSameFiles(whole, split)
        }
    }

    func testOnePartAndMorePartsThanNeededGiveTheSameBytes() throws {
        let whole = directory + "/whole"
        XCTAssertEqual(try Isomerge.run(try mergeArguments("tsv_m", output: whole)).status, 0)
        for parts in [1, 12] {
            let split = directory + "/split-\(parts)", arguments = try mergeArguments("tsv_m", output: split)
            try runParts(arguments, parts: parts)
            XCTAssertEqual(try Isomerge.run(arguments + ["--finish", "\(parts)"]).status, 0)
            try assertSameFiles(whole, split)
        }
    }

    func testTheFinishingStepNamesMissingPartsAndWritesNoIndex() throws {
        let split = directory + "/split", arguments = try mergeArguments("iso_c", output: split)
        try runParts(arguments, parts: 4, only: [1, 3])
        let finished = try Isomerge.run(arguments + ["--finish", "4"])
        XCTAssertEqual(finished.status, 1)
        XCTAssertTrue(finished.stderr.contains("part 2 of 4: not finished"), finished.stderr)
        XCTAssertTrue(finished.stderr.contains("part 4 of 4: not finished"), finished.stderr)
        XCTAssertFalse(finished.stderr.contains("part 1 of 4"), finished.stderr)
        XCTAssertTrue(finished.stderr.contains("--part 2/4"), finished.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: split + "/" + CheckpointWriter.indexName))
    }

    /// A part killed while it writes leaves no record: the finishing step names it; its rerun
    /// removes the killed run's temporaries, and the finished checkpoint is the one-process one.
    func testAKilledPartIsNamedAndItsRerunCompletesTheCheckpoint() throws {
        let (base, models) = try models(shapes: (0..<8).map { ("block.\($0).weight", [256, 256]) }, prefix: "slow_")
        let split = directory + "/split", whole = directory + "/whole"
        let arguments = ["merge", "--method", "iso_c", "--threads", "1", "--base", base, "--models"] + models
            + ["--output", split, "--shard-size", "300000", "--quiet"]
        try runParts(arguments, parts: 2, only: [2])
        let child = try Isomerge.start(arguments + ["--part", "1/2"], output: logPath())
        let writing = try waitUntil(timeout: 60) { try hiddenEntries(split).contains { $0.contains(".tmp-") } }
        XCTAssertTrue(writing, "part 1 never started writing")
        child.signal(SIGKILL)
        XCTAssertEqual(child.wait(timeout: 30), 137)
        let finished = try Isomerge.run(arguments + ["--finish", "2"])
        XCTAssertEqual(finished.status, 1)
        XCTAssertTrue(finished.stderr.contains("part 1 of 2: not finished"), finished.stderr)
        XCTAssertFalse(finished.stderr.contains("part 2 of 2"), finished.stderr)
        try runParts(arguments, parts: 2, only: [1])
        XCTAssertEqual(try Isomerge.run(arguments + ["--finish", "2"]).status, 0)
        XCTAssertEqual(try hiddenEntries(split), [], "leftovers after the finishing step")
        XCTAssertEqual(try Isomerge.run(Array(arguments.map { $0 == split ? whole : $0 })).status, 0)
        try assertSameFiles(whole, split)
    }

    func testThePartMadeWithOtherSettingsIsNamedWithTheSettings() throws {
        let split = directory + "/split", arguments = try mergeArguments("task_arithmetic", output: split)
        try runParts(arguments, parts: 3, only: [1, 3])
        try runParts(arguments + ["--alpha", "0.5"], parts: 3, only: [2])
        let finished = try Isomerge.run(arguments + ["--finish", "3"])
        XCTAssertEqual(finished.status, 1)
        XCTAssertTrue(finished.stderr.contains("part 2 of 3 was made with other inputs or settings"), finished.stderr)
        XCTAssertTrue(finished.stderr.contains("metadata isomerge.alpha: 0.3 here, 0.5 in the part"), finished.stderr)
        XCTAssertFalse(finished.stderr.contains("part 1 of 3"), finished.stderr)
    }

    func testAShardChangedAfterItsPartFinishedIsNamed() throws {
        let split = directory + "/split", arguments = try mergeArguments("average", output: split)
        try runParts(arguments, parts: 2)
        let shard = split + "/" + CheckpointWriter.shardName(2, of: try shardCount(split))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: shard))
        handle.seekToEndOfFile()
        handle.write(Data([0]))
        try handle.close()
        let finished = try Isomerge.run(arguments + ["--finish", "2"])
        XCTAssertEqual(finished.status, 1)
        XCTAssertTrue(finished.stderr.contains(shard) && finished.stderr.contains("bytes, the plan has"), finished.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: split + "/" + CheckpointWriter.indexName))
    }

    func testAPartNeverReplacesAFinishedCheckpointUnlessAllowed() throws {
        let split = directory + "/split", arguments = try mergeArguments("average", output: split)
        try runParts(arguments, parts: 2)
        XCTAssertEqual(try Isomerge.run(arguments + ["--finish", "2"]).status, 0)
        let again = try Isomerge.run(arguments + ["--part", "1/2"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("already exists"), again.stderr)
        XCTAssertEqual(try Isomerge.run(arguments + ["--part", "1/2", "--overwrite"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: split + "/" + CheckpointWriter.indexName), "the old index stayed")
    }

    func testUsageErrors() throws {
        let (base, models) = try splitModels()
        let common = ["merge", "--method", "iso_c", "--base", base, "--models"] + models
        let cases: [([String], String)] = [
            (["--output", directory + "/o", "--part", "1/2"], "give --shard-size"),
            (["--output", directory + "/o", "--shard-size", "8000", "--part", "3/2"], "--part must be I/N"),
            (["--output", directory + "/o", "--shard-size", "8000", "--part", "0/2"], "--part must be I/N"),
            (["--output", directory + "/o.safetensors", "--shard-size", "8000", "--part", "1/2"], "must be a directory"),
            (["--output", directory + "/o", "--shard-size", "8000", "--part", "1/2", "--finish", "2"], "separate runs"),
            (["--output", directory + "/o", "--shard-size", "8000", "--finish", "0"], "at least 1"),
        ]
        for (extra, message) in cases {
            let result = try Isomerge.run(common + extra)
            XCTAssertEqual(result.status, 2, "\(extra): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(message), "\(extra): \(result.stderr)")
        }
        let single = try Isomerge.run(common + ["--output", directory + "/o", "--shard-size", "100000000", "--part", "1/2"])
        XCTAssertEqual(single.status, 1)
        XCTAssertTrue(single.stderr.contains("would be one file"), single.stderr)
    }

    /// The number of shards in `directory`, from a shard's name.
    func shardCount(_ directory: String) throws -> Int {
        let name = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasPrefix("model-") })
        return Int(name.dropFirst("model-00001-of-".count).prefix(5))!
    }
}
