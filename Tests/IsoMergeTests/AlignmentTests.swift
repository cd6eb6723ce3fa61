import Foundation
@testable import IsoMerge
import Linalg
import XCTest

/// SAR against the float64 reference (expected-sar.json, from make_expected_sar.py with refmerge.py).
final class AlignmentTests: XCTestCase {
    func testSARAgainstFloat64Reference() throws {
        for fixture in ["small-t3", "odd-t3"] {
            let directory = TestFiles.fixture("merge/" + fixture)
            let expected = try JSONValue.parse(TestFiles.bytes(directory + "/expected-sar.json"))
            let base = try Checkpoint(path: directory + "/base.safetensors")
            let models = try (0..<3).map { try Checkpoint(path: directory + "/ft_0\($0).safetensors") }
            let methods = ["task_arithmetic", "tsv_m", "iso_c", "iso_cts"]
            let report = try AlignmentReport.compute(base: base, models: models, rules: try methods.map { try MergeRules.standard.make($0) })
            XCTAssertEqual(report.tasks, ["ft_00.safetensors", "ft_01.safetensors", "ft_02.safetensors"])
            // The spectrum is drawn by default for the tensor with the largest task vectors.
            let energies = try report.tensors.map { name -> Double in
                let theta0 = try base.values(of: name, as: Double.self)
                return try models.reduce(0.0) { sum, model in
                    try zip(model.values(of: name, as: Double.self), theta0).reduce(sum) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                }
            }
            XCTAssertEqual(report.plotTensor, report.tensors[energies.indices.max { energies[$0] < energies[$1] }!], fixture)
            XCTAssertEqual(Set(report.spectra.keys), Set(methods), fixture)
            for method in methods {
                guard case let .object(tensors)? = expected["methods"]?[method]?["tensors"] else {
                    return XCTFail("no expectations for \(method)")
                }
                XCTAssertEqual(report.tensors.sorted(), tensors.map(\.key).sorted(), "\(fixture) \(method): matrix-path tensors")
                for (name, value) in tensors {
                    guard let index = report.tensors.firstIndex(of: name), case let .array(sar)? = value["sar"] else { continue }
                    let entry = report.entries[method]![index]
                    XCTAssertEqual(entry.rank, value["k_m"]?.nonNegativeInteger, "\(fixture) \(method) \(name) k_M")
                    for (t, reference) in sar.enumerated() {
                        XCTAssertEqual(entry.ratios[t], reference.double!, accuracy: 1e-4, "\(fixture) \(method) \(name) task \(t)")
                    }
                }
            }
        }
    }

    func testEnergyRank() {
        XCTAssertEqual(SubspaceAlignment.energyRank([]), 0)
        XCTAssertEqual(SubspaceAlignment.energyRank([0, 0]), 0)
        XCTAssertEqual(SubspaceAlignment.energyRank([1, 0, 0]), 1)
        // Tail energy after k = 1 is 0.04² + 0.01² = 0.0017 > 0.0025·1.0017? No: 0.0017 ≤ 0.0025·1.0017.
        XCTAssertEqual(SubspaceAlignment.energyRank([1, 0.04, 0.01]), 1)
        XCTAssertEqual(SubspaceAlignment.energyRank([1, 0.06, 0.01]), 2)
        XCTAssertEqual(SubspaceAlignment.energyRank([1, 1, 1, 1]), 4)
    }
}
