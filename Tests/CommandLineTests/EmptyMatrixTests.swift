import Foundation
import IsoMerge
import XCTest

/// Empty matrices whose other side is huge — [2⁶², 0], [0, 2⁶²], legal in a safetensors header —
/// are answered at once by every command that reads matrices (before, `analyze` and `svd` looped
/// over the long side and never finished).
final class EmptyMatrixTests: CommandLineTestCase {
    func testEveryCommandFinishesAtOnce() throws {
        let long = 1 << 62
        let (base, models) = try models(shapes: [("long.weight", [long, 0]), ("wide.weight", [0, long]), ("layer.weight", [4, 3])],
                                        count: 2)
        func run(_ arguments: String) throws -> CommandResult {
            try Isomerge.shell("timeout 60 \"$ISOMERGE\" \(arguments)")
        }
        let inputs = "--base '\(base)' --models '\(models[0])' '\(models[1])'"
        let analyze = try run("analyze \(inputs) --json '\(directory)/sar.json'")
        XCTAssertEqual(analyze.status, 0, analyze.stderr)
        let svd = try run("svd '\(models[0])' --output '\(directory)/factors.safetensors'")
        XCTAssertEqual(svd.status, 0, svd.stderr)
        XCTAssertTrue(svd.stdout.contains("long.weight  [\(long), 0] F32  σ: "), svd.stdout)
        XCTAssertTrue(svd.stdout.contains("wide.weight  [0, \(long)] F32  σ: "), svd.stdout)
        let factors = try Checkpoint(path: directory + "/factors.safetensors")
        XCTAssertEqual(factors.tensor(named: "long.weight.U")?.entry.shape, [long, 0])
        XCTAssertEqual(factors.tensor(named: "wide.weight.Vt")?.entry.shape, [0, long])
        for method in ["iso_cts", "iso_c", "tsv_m", "ties", "task_arithmetic"] {
            let output = "\(directory)/\(method).safetensors"
            let merge = try run("merge --method \(method) \(inputs) --output '\(output)'")
            XCTAssertEqual(merge.status, 0, "\(method): \(merge.stderr)")
            XCTAssertEqual(try Checkpoint(path: output).tensor(named: "long.weight")?.entry.shape, [long, 0], method)
        }
    }
}
