import Foundation
import IsoMerge
import XCTest

/// No NaN or infinity is written silently: an output that overflows its dtype is refused naming
/// the tensors, and `apply` refuses a task vector holding NaN/∞ or a full checkpoint given as one.
final class NonFiniteOutputTests: CommandLineTestCase {
    func testAnOutputOverflowingF16IsRefusedNamingTheTensors() throws {
        let (base, models) = try models()
        let before = try snapshot(directory)
        for output in ["out.safetensors", "out-dir"] {
            let result = try Isomerge.run(["merge", "--method", "task_arithmetic", "--base", base, "--models"] + models
                                          + ["--output", directory + "/" + output, "--output-dtype", "F16", "--alpha", "1e7"])
            XCTAssertEqual(result.status, 1, result.stderr)
            for name in ["'layer.weight'", "'head.weight'", "as F16", "NaN or infinity"] {
                XCTAssertTrue(result.stderr.contains(name), result.stderr)
            }
            XCTAssertEqual(try snapshot(directory), before, "\(output): something was written")
        }
        // Within range it is written.
        let fine = try Isomerge.run(["merge", "--method", "task_arithmetic", "--base", base, "--models"] + models
                                    + ["--output", directory + "/fine.safetensors", "--output-dtype", "F16", "--quiet"])
        XCTAssertEqual(fine.status, 0, fine.stderr)
    }

    /// With `--save-task-vector`, τ_M is finite but the checkpoint made from it is not: the run
    /// fails, and neither output appears (τ_M is published only with the checkpoint), whether the
    /// task vector goes to a file or a directory.
    func testARefusedCheckpointLeavesNoTaskVectorBehind() throws {
        let (base, models) = try models()
        let before = try snapshot(directory)
        for taskVector in ["tau.safetensors", "tau-dir"] {
            let result = try Isomerge.run(["merge", "--method", "task_arithmetic", "--base", base, "--models"] + models
                                          + ["--output", directory + "/out.safetensors", "--output-dtype", "F16", "--alpha", "1e7",
                                             "--save-task-vector", directory + "/" + taskVector])
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("NaN or infinity"), result.stderr)
            XCTAssertEqual(try snapshot(directory), before, "\(taskVector): something was left")
            XCTAssertEqual(try hiddenEntries(directory), [])
        }
        let fine = try Isomerge.run(["merge", "--method", "task_arithmetic", "--base", base, "--models"] + models
                                    + ["--output", directory + "/out", "--save-task-vector", directory + "/tau-dir", "--quiet"])
        XCTAssertEqual(fine.status, 0, fine.stderr)
        XCTAssertEqual(try Checkpoint(path: directory + "/tau-dir").metadata.first { $0.key == MergePlan.contentKey }?.value,
                       MergePlan.taskVectorContent)
        XCTAssertEqual(try hiddenEntries(directory), [])
    }

    func testApplyRefusesNonFiniteTaskVectorsAndFullCheckpoints() throws {
        let (base, models) = try models()
        let marked = [MergePlan.contentKey: MergePlan.taskVectorContent]
        var weight = [Float](repeating: 0.01, count: 96)
        weight[17] = .nan
        let bad = try write("bad-tau.safetensors", [("layer.weight", [12, 8], weight), ("layer.bias", [8], [Float](repeating: 0, count: 8)),
                                                    ("head.weight", [5, 7], [Float](repeating: .infinity, count: 35))], metadata: marked)
        let output = directory + "/applied.safetensors"
        let nonFinite = try Isomerge.run(["apply", "--base", base, "--task-vector", bad, "--alpha", "1", "--output", output])
        XCTAssertEqual(nonFinite.status, 1, nonFinite.stderr)
        XCTAssertTrue(nonFinite.stderr.contains("bad-tau.safetensors: tensor '"), nonFinite.stderr)
        XCTAssertTrue(nonFinite.stderr.contains("NaN or infinity"), nonFinite.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))

        let full = try Isomerge.run(["apply", "--base", base, "--task-vector", models[0], "--alpha", "1", "--output", output])
        XCTAssertEqual(full.status, 1, full.stderr)
        XCTAssertTrue(full.stderr.contains("is not a task vector"), full.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertEqual(try hiddenEntries(directory), [])

        // And a task vector is not a model to merge.
        let tau = directory + "/tau.safetensors"
        XCTAssertEqual(try Isomerge.run(["merge", "--method", "average", "--base", base, "--models"] + models
                                        + ["--output", directory + "/m.safetensors", "--save-task-vector", tau, "--quiet"]).status, 0)
        let merged = try Isomerge.run(["merge", "--method", "average", "--base", base, "--models", models[0], tau,
                                       "--output", directory + "/m2.safetensors"])
        XCTAssertEqual(merged.status, 1, merged.stderr)
        XCTAssertTrue(merged.stderr.contains("is a merged task vector"), merged.stderr)
    }
}
