import Foundation
@testable import IsoMerge
import XCTest

/// PyTorch checkpoints written by real `torch.save` (scripts/make_torch_fixtures.py), each read
/// against the safetensors file holding what torch itself says the tensors are.
final class PyTorchReaderTests: XCTestCase {
    /// Same names in the same order (the reference's metadata "order": torch's order), dtypes,
    /// shapes and bytes; floats also through `values`.
    func assertSameTensors(_ ours: Checkpoint, _ reference: Checkpoint, file: StaticString = #filePath, line: UInt = #line) throws {
        let order = try JSONValue.parse(Array((reference.metadataValue("order") ?? "[]").utf8))
        guard case let .array(names) = order else { return XCTFail("reference has no order", file: file, line: line) }
        XCTAssertEqual(ours.tensors.map { JSONValue.string($0.entry.name) }, names, "names and order", file: file, line: line)
        XCTAssertEqual(reference.tensors.count, names.count, file: file, line: line)
        for (_, expected) in reference.tensors {
            guard let (_, entry) = ours.tensor(named: expected.name) else { continue }
            XCTAssertEqual(entry.dtype, expected.dtype, expected.name, file: file, line: line)
            XCTAssertEqual(entry.shape, expected.shape, expected.name, file: file, line: line)
            XCTAssertEqual(entry.byteCount, expected.byteCount, expected.name, file: file, line: line)
            XCTAssertEqual(try ours.rawBytes(of: expected.name), try reference.rawBytes(of: expected.name), expected.name, file: file, line: line)
            if expected.dtype.isConvertibleFloat {
                XCTAssertEqual(try ours.values(of: expected.name, as: Double.self), try reference.values(of: expected.name, as: Double.self),
                               expected.name, file: file, line: line)
                XCTAssertEqual(try ours.values(of: expected.name, as: Float.self), try reference.values(of: expected.name, as: Float.self),
                               expected.name, file: file, line: line)
            }
        }
    }

    /// Views (transposed, stepped, offset, stride 0), shared storages, a 0-d and an empty tensor,
    /// every float and integer dtype and a parameter, in protocols 2, 4 and 5 and big-endian.
    func testStateDictsMatchTorchsOwnBytes() throws {
        let reference = try Checkpoint(path: TestFiles.fixture("torch/state_dict.safetensors"))
        XCTAssertEqual(reference.tensors.count, 20)
        for name in ["state_dict.pt", "protocol4.pt", "protocol5.pt", "big_endian.pt"] {
            let checkpoint = try Checkpoint(path: TestFiles.fixture("torch/" + name))
            try assertSameTensors(checkpoint, reference)
            XCTAssertEqual(checkpoint.metadata.count, 0, name)
        }
    }

    func testContiguousTensorsAreFileRangesAndViewsAreGathered() throws {
        let checkpoint = try Checkpoint(path: TestFiles.fixture("torch/state_dict.pt"))
        let bytes = TestFiles.bytes(TestFiles.fixture("torch/state_dict.pt"))
        for name in ["matrix", "row", "shared.head", "shared.tail", "scalar", "i64"] {
            let entry = checkpoint.tensor(named: name)!.entry
            XCTAssertEqual(Array(bytes[entry.dataOffsets]), try checkpoint.rawBytes(of: name), name)
        }
        // One storage behind matrix, its transpose, a stepped slice and a row.
        let matrix = checkpoint.tensor(named: "matrix")!.entry.dataOffsets
        XCTAssertEqual(checkpoint.tensor(named: "row")!.entry.dataOffsets.lowerBound, matrix.lowerBound + 12 * 4)
        XCTAssertEqual(checkpoint.tensor(named: "stepped")!.entry.dataOffsets.lowerBound, matrix.lowerBound + 6 * 4)
        XCTAssertEqual(try checkpoint.values(of: "expanded", as: Float.self), [0, 1, 2, 0, 1, 2])
    }

    func testUntypedStoragesWithExplicitDTypes() throws {
        try assertSameTensors(try Checkpoint(path: TestFiles.fixture("torch/untyped_storage.pt")),
                              try Checkpoint(path: TestFiles.fixture("torch/untyped_storage.safetensors")))
        let checkpoint = try Checkpoint(path: TestFiles.fixture("torch/untyped_storage.pt"))
        XCTAssertEqual(checkpoint.tensors.map(\.entry.dtype), [.u16, .u32, .u64, .f8E4M3])
    }

    /// An Ilharco-style `torch.save(model)`: unknown classes kept as records, tensors named as
    /// `model.state_dict()` names them (None parameters and non-persistent buffers left out).
    func testWholePickledModuleIsNamedAsItsStateDict() throws {
        let checkpoint = try Checkpoint(path: TestFiles.fixture("torch/module.pt"))
        try assertSameTensors(checkpoint, try Checkpoint(path: TestFiles.fixture("torch/module.safetensors")))
        let names = checkpoint.tensors.map(\.entry.name)
        XCTAssertTrue(names.contains("model.visual.transformer.resblocks.0.attn.out_proj.weight"))
        XCTAssertFalse(names.contains { $0.hasSuffix("attn_mask") || $0.hasSuffix("unused_bias") })
    }

    func testNestedTrainingCheckpointsFollowTheSelectionRule() throws {
        let small = try Checkpoint(path: TestFiles.fixture("torch/small.safetensors"))
        try assertSameTensors(try Checkpoint(path: TestFiles.fixture("torch/nested_state_dict.pt")), small)
        try assertSameTensors(try Checkpoint(path: TestFiles.fixture("torch/nested_model.pt")), small)
        try assertSameTensors(try Checkpoint(path: TestFiles.fixture("torch/nested_model.pt"), key: "ema"),
                              try Checkpoint(path: TestFiles.fixture("torch/ema.safetensors")))
        try assertSameTensors(try Checkpoint(path: TestFiles.fixture("torch/nested_state_dict.pt"), key: "state_dict"), small)
        let plain = try Checkpoint(path: TestFiles.fixture("torch/nested_plain.pt"))
        XCTAssertEqual(plain.tensors.map(\.entry.name), ["encoder.weight", "head.0"])
        XCTAssertEqual(try plain.rawBytes(of: "head.0"), try small.rawBytes(of: "bias"))
        XCTAssertSafetensorsError(["nested_model.pt", "no top-level key 'weights'", "'model'", "'ema'"]) {
            _ = try Checkpoint(path: TestFiles.fixture("torch/nested_model.pt"), key: "weights")
        }
        XCTAssertSafetensorsError(["small.safetensors", "is a safetensors file"]) {
            _ = try Checkpoint(path: TestFiles.fixture("torch/small.safetensors"), key: "model")
        }
    }

    func testShardedPytorchModelBin() throws {
        let reference = try Checkpoint(path: TestFiles.fixture("torch/sharded.safetensors"))
        for path in ["torch/sharded", "torch/sharded/pytorch_model.bin.index.json"] {
            let checkpoint = try Checkpoint(path: TestFiles.fixture(path))
            XCTAssertEqual(checkpoint.files.count, 2, path)
            XCTAssertEqual(checkpoint.metadataValue("total_size"), "28", path)
            try assertSameTensors(checkpoint, reference)
        }
    }

    func testLegacyFormatIsRefusedWithTheFix() {
        XCTAssertSafetensorsError(["legacy.pt", "legacy torch.save format", "re-save it with torch ≥ 1.6"]) {
            _ = try Checkpoint(path: TestFiles.fixture("torch/legacy.pt"))
        }
    }
}
