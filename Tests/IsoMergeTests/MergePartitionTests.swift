@testable import IsoMerge
import XCTest

/// The split of a sharded output into parts: the one-process shards, assigned by longest
/// processing time first, the same in every process; and the costs it balances.
final class MergePartitionTests: XCTestCase {
    func spec(_ name: String, _ shape: [Int]) -> TensorSpec { TensorSpec(name: name, dtype: .f32, shape: shape) }

    func testShardsAreTheOneProcessShardsAssignedByDecreasingCost() throws {
        let order = (0..<6).map { spec("t\($0)", [10]) }
        let costs = ["t0": 5, "t1": 4, "t2": 3, "t3": 3, "t4": 2, "t5": 2]
        let partition = try MergePartition(order: order, maximumShardBytes: 40, parts: 2) { costs[$0.name]! }
        XCTAssertEqual(partition.shards.map(\.tensors), CheckpointWriter.shardGroups(order, maximumShardBytes: 40))
        XCTAssertEqual(partition.shards.map(\.name), (1...6).map { CheckpointWriter.shardName($0, of: 6) })
        // 5 → 1, 4 → 2, 3 → 2 (4 < 5), 3 → 1 (5 < 7), 2 → 2 (7 < 8), 2 → 1 (8 < 9).
        XCTAssertEqual(partition.shards.map(\.part), [1, 2, 2, 1, 2, 1])
        XCTAssertEqual([1, 2].map(partition.cost(of:)), [10, 9])
        XCTAssertEqual(partition.shards(of: 2).map(\.name), [2, 3, 5].map { CheckpointWriter.shardName($0, of: 6) })
    }

    func testMorePartsThanShardsLeavesTheLastPartsIdle() throws {
        let order = (0..<3).map { spec("t\($0)", [10]) }
        let partition = try MergePartition(order: order, maximumShardBytes: 40, parts: 5) { _ in 1 }
        XCTAssertEqual(partition.shards.map(\.part), [1, 2, 3])
        XCTAssertEqual(partition.shards(of: 4).count, 0)
    }

    func testAnOutputOfOneFileCannotBeSplit() {
        XCTAssertThrowsError(try MergePartition(order: [spec("a", [10]), spec("b", [10])], maximumShardBytes: 80, parts: 2) { _ in 1 }) {
            XCTAssertTrue("\($0)".contains("would be one file"), "\($0)")
        }
    }

    func testCostsWeighSVDWorkByTheRuleAndIOByTheBytes() throws {
        let entry = { (shape: [Int]) in TensorEntry(name: "w", dtype: .f32, shape: shape, dataOffsets: 0..<(4 * shape.reduce(1, *))) }
        let matrix = MergePlan.Tensor(name: "w", entry: entry([512, 256]), merged: true)
        let output = spec("w", [512, 256])
        let io = 4 * 512 * 256 * (4 + 1 + 1)  // base, 4 models, output
        XCTAssertEqual(TensorCost.estimate(matrix, output: output, rule: TaskArithmetic(), tasks: 4), io)
        let isoC = TensorCost.estimate(matrix, output: output, rule: try IsoC(), tasks: 4)
        XCTAssertEqual(isoC, io + 512 * 256 * 256 / TensorCost.svdWorkPerNanosecond)
        XCTAssertEqual(TensorCost.estimate(matrix, output: output, rule: try TSVM(), tasks: 4), io + 6 * 512 * 256 * 256 / TensorCost.svdWorkPerNanosecond)
        let copied = MergePlan.Tensor(name: "w", entry: entry([512, 256]), merged: false)
        XCTAssertEqual(TensorCost.estimate(copied, output: output, rule: try IsoC(), tasks: 4), 2 * 4 * 512 * 256)
    }
}
