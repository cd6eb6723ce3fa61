#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
@testable import IsoMerge
import Linalg
import XCTest

/// SAR against the float64 reference (expected-sar.json, from make_expected_sar.py with refmerge.py),
/// and the SVG plots' structure.
final class AlignmentTests: XCTestCase {
    func testSARAgainstFloat64Reference() throws {
        for fixture in ["small-t3", "odd-t3"] {
            let directory = TestFiles.fixture("merge/" + fixture)
            let expected = try JSONValue.parse(TestFiles.bytes(directory + "/expected-sar.json"))
            let base = try Checkpoint(path: directory + "/base.safetensors")
            let models = try (0..<3).map { try Checkpoint(path: directory + "/ft_0\($0).safetensors") }
            let methods: [MergeMethod] = [.taskArithmetic, .tsvM, .isoC, .isoCTS]
            let report = try AlignmentReport.compute(base: base, models: models, methods: methods, options: MergeOptions(method: .isoC))
            XCTAssertEqual(report.tasks, ["ft_00.safetensors", "ft_01.safetensors", "ft_02.safetensors"])
            for method in methods {
                guard case let .object(tensors)? = expected["methods"]?[method.rawValue]?["tensors"] else {
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

    /// Collects every <path class="series"> and the numbers in its d attribute.
    final class PathCollector: NSObject, XMLParserDelegate {
        var series: [(name: String, points: [Double])] = []
        var root = ""
        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if root.isEmpty { root = element }
            guard element == "path", attributes["class"] == "series" else { return }
            let numbers = (attributes["d"] ?? "").split(whereSeparator: { "MLHVZ ".contains($0) }).compactMap { Double($0) }
            series.append((attributes["data-series"] ?? "", numbers))
        }
    }

    func parse(_ svg: String) -> PathCollector? {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = PathCollector()
        parser.delegate = collector
        return parser.parse() ? collector : nil
    }

    /// Spectra over 20 decades with zeros: valid XML, one path per series, every coordinate in the plot area.
    func testSVGLineChartOnLogScaleWithZerosStaysInside() {
        let chart = SVGChart(title: "spectra <&> \"quoted\"", xLabel: "i", yLabel: "σ", logarithmic: true)
        let series = [SVGChart.Series(name: "sum", values: (0..<50).map { pow(10, -Double($0) * 0.4) }),
                      SVGChart.Series(name: "flat", values: [Double](repeating: 3e-3, count: 50)),
                      SVGChart.Series(name: "with zeros", values: [1, 0.5, 0, 0, 1e-12, .infinity, 0])]
        guard let parsed = parse(chart.lines(series)) else { return XCTFail("not well-formed XML") }
        XCTAssertEqual(parsed.root, "svg")
        XCTAssertEqual(parsed.series.map(\.name), ["sum", "flat", "with zeros"])
        for path in parsed.series { checkInside(path.points, roles: "xy", chart, path.name) }
    }

    func testSVGBarChartOnePathPerSeriesInside() {
        let chart = SVGChart(title: "bars", xLabel: "task", yLabel: "SAR")
        let series = [SVGChart.Series(name: "iso_c", values: [0.9, 1.0, 0.95]), SVGChart.Series(name: "ties", values: [0.2, 0, 1.2])]
        guard let parsed = parse(chart.bars(groups: ["a", "b", "c"], series)) else { return XCTFail("not well-formed XML") }
        XCTAssertEqual(parsed.series.map(\.name), ["iso_c", "ties"])
        for path in parsed.series {
            XCTAssertEqual(path.points.count, 3 * 5, "five numbers per bar")
            checkInside(path.points, roles: "xyxyx", chart, path.name)
        }
    }

    /// d's numbers cycle through `roles`: "xy" for line points (M/L x y), "xyxyx" for bars
    /// (M x y H x V y H x). Each x must lie in the plot's x range, each y in its y range.
    func checkInside(_ numbers: [Double], roles: String, _ chart: SVGChart, _ name: String) {
        let xRange = chart.left...(chart.width - chart.right), yRange = chart.top...(chart.height - chart.bottom)
        let pattern = Array(roles)
        for (index, value) in numbers.enumerated() {
            let range = pattern[index % pattern.count] == "x" ? xRange : yRange
            XCTAssertTrue(range.contains(value), "\(name): coordinate \(value) (\(pattern[index % pattern.count])) outside the plot area")
        }
        XCTAssertFalse(numbers.isEmpty, name)
    }
}
