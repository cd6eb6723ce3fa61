import Foundation
import IsoMerge
import XCTest

/// The paper's checkpoint layout (`ViT-T/<Task>Val/nonlinear_finetuned.pt`, base
/// `ViT-T/nonlinear_zeroshot.pt`, whole pickled image encoders written by torch.save) merged
/// directly, against the same checkpoints as safetensors (scripts/make_torch_fixtures.py).
final class PyTorchCommandTests: CommandLineTestCase {
    static let checkpoints = ["nonlinear_zeroshot", "MNISTVal/nonlinear_finetuned", "SVHNVal/nonlinear_finetuned",
                              "EuroSATVal/nonlinear_finetuned"]

    /// `directory/ViT-T/…​.pt` as links to the torch files, or (`safetensors`) to their safetensors
    /// twins: the same paths on the command line, so the same provenance metadata.
    func linkLayout(safetensors: Bool) throws {
        let manager = FileManager.default
        try? manager.removeItem(atPath: directory + "/ViT-T")
        for name in Self.checkpoints {
            let link = directory + "/ViT-T/" + name + ".pt"
            try manager.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let target = safetensors ? Isomerge.fixture("torch/safetensors/" + name + ".safetensors") : Isomerge.fixture("torch/ViT-T/" + name + ".pt")
            try manager.createSymbolicLink(atPath: link, withDestinationPath: target)
        }
    }

    func testPaperLayoutMergesByteIdenticallyToSafetensors() throws {
        let models = Self.checkpoints.dropFirst().map { directory + "/ViT-T/" + $0 + ".pt" }
        for method in MergeRules.standard.names {
            var outputs: [Data] = []
            for safetensors in [false, true] {
                try linkLayout(safetensors: safetensors)
                let output = directory + "/merged-\(method)-\(safetensors).safetensors"
                let result = try Isomerge.run(["merge", "--method", method, "--base", directory + "/ViT-T/nonlinear_zeroshot.pt",
                                               "--models"] + models + ["--output", output, "--quiet"])
                XCTAssertEqual(result.status, 0, result.stderr)
                XCTAssertEqual(try Checkpoint(path: output).tensors.count, 22, method)
                outputs.append(FileManager.default.contents(atPath: output) ?? Data())
            }
            XCTAssertEqual(outputs[0], outputs[1], "\(method): merge of .pt inputs differs from the safetensors merge")
        }
    }

    func testLibraryMergeOfTorchFilesIsByteIdentical() throws {
        func merge(_ paths: [String], to output: String) throws -> Data {
            let engine = try MergeEngine(base: try Checkpoint(path: paths[0]), models: try paths.dropFirst().map { try Checkpoint(path: $0) },
                                         options: MergeOptions(rule: try IsoCTS()))
            _ = try engine.merge(to: output)
            return FileManager.default.contents(atPath: output) ?? Data()
        }
        let torch = try merge(Self.checkpoints.map { Isomerge.fixture("torch/ViT-T/" + $0 + ".pt") }, to: directory + "/torch.safetensors")
        let safetensors = try merge(Self.checkpoints.map { Isomerge.fixture("torch/safetensors/" + $0 + ".safetensors") },
                                    to: directory + "/safetensors.safetensors")
        XCTAssertEqual(torch, safetensors)
    }

    func testConvertWritesTheSameTensors() throws {
        let output = directory + "/zeroshot.safetensors"
        let result = try Isomerge.run(["convert", Isomerge.fixture("torch/ViT-T/nonlinear_zeroshot.pt"), output])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("wrote 22 tensors"), result.stdout)
        let converted = try Checkpoint(path: output)
        let reference = try Checkpoint(path: Isomerge.fixture("torch/safetensors/nonlinear_zeroshot.safetensors"))
        XCTAssertEqual(converted.tensors.map(\.entry.name).sorted(), reference.tensors.map(\.entry.name).sorted())
        for (_, entry) in reference.tensors {
            XCTAssertEqual(converted.tensor(named: entry.name)?.entry.dtype, entry.dtype, entry.name)
            XCTAssertEqual(converted.tensor(named: entry.name)?.entry.shape, entry.shape, entry.name)
            XCTAssertEqual(try converted.rawBytes(of: entry.name), try reference.rawBytes(of: entry.name), entry.name)
        }
        let again = try Isomerge.run(["convert", Isomerge.fixture("torch/ViT-T/nonlinear_zeroshot.pt"), output])
        XCTAssertEqual(again.status, 1, "an existing output needs --overwrite")
        XCTAssertEqual(try Isomerge.run(["convert", output]).status, 2)
    }

    func testInspectAndConvertReportBadFiles() throws {
        let path = directory + "/truncated.pt"
        // The first third of a real checkpoint.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Isomerge.fixture("torch/ViT-T/nonlinear_zeroshot.pt")))
        try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: path))
        for command in [["inspect", path], ["convert", path, directory + "/out.safetensors"]] {
            let result = try Isomerge.run(command)
            XCTAssertEqual(result.status, 1, command[0])
            XCTAssertTrue(result.stderr.contains(path) && result.stderr.contains("truncated"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/out.safetensors"))
        let inspect = try Isomerge.run(["inspect", Isomerge.fixture("torch/ViT-T/MNISTVal/nonlinear_finetuned.pt")])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("model.visual.transformer.resblocks.0.attn.in_proj_weight"), inspect.stdout)
    }
}
