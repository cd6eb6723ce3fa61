#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
@testable import IsoMerge
@testable import IsoMergePlot
import XCTest

/// The figures of `isomerge analyze`: well-formed SVG, legends of exactly the methods shown, one
/// colour per method in every figure, fitted axes whose ticks span the data, readable layer labels.
final class PlotTests: XCTestCase {
    /// What the tests read back from an SVG document.
    final class Inspection: NSObject, XMLParserDelegate {
        var root = ""
        var legend: [String] = []
        /// Colour of every drawn element of a series (lines, markers, legend samples), by series name.
        var colors: [String: Set<String>] = [:]
        /// Numbers of each line's d attribute (x y pairs), by series name.
        var lines: [String: [Double]] = [:]
        var yTicks: [(value: Double, label: String)] = []
        var xTicks: [String] = []
        var groups: [String] = []
        var frame: (left: Double, top: Double, right: Double, bottom: Double)?
        private var textClass: String?
        private var textValue: Double?
        private var text = ""
        private var legendEntry: String?

        func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if root.isEmpty { root = element }
            if element == "g", attributes["class"] == "legend-entry", let name = attributes["data-series"] {
                legend.append(name)
                legendEntry = name
            }
            if let name = attributes["data-series"] ?? legendEntry, let color = attributes["stroke"] {
                colors[name, default: []].insert(color)
            }
            if element == "path", attributes["class"] == "series", let name = attributes["data-series"] {
                lines[name] = (attributes["d"] ?? "").split(whereSeparator: { "ML ".contains($0) }).compactMap { Double($0) }
            }
            if element == "rect", attributes["stroke"] == "#444", let x = Double(attributes["x"] ?? ""), let y = Double(attributes["y"] ?? ""),
               let width = Double(attributes["width"] ?? ""), let height = Double(attributes["height"] ?? "") {
                frame = (x, y, x + width, y + height)
            }
            if element == "text" {
                textClass = attributes["class"]
                textValue = attributes["data-value"].flatMap(Double.init)
                text = ""
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
            if element == "g" { legendEntry = nil }
            guard element == "text" else { return }
            switch textClass {
            case "y-tick": yTicks.append((textValue ?? .nan, text))
            case "x-tick": xTicks.append(text)
            case "x-group": groups.append(text)
            default: break
            }
            textClass = nil
        }
    }

    func inspect(_ svg: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> Inspection {
        let parser = XMLParser(data: Data(svg.utf8))
        let inspection = Inspection()
        parser.delegate = inspection
        XCTAssertTrue(parser.parse(), "\(name): not well-formed XML: \(String(describing: parser.parserError))", file: file, line: line)
        XCTAssertEqual(inspection.root, "svg", name, file: file, line: line)
        return inspection
    }

    /// The y ticks read back as numbers, enclose `values` and are no wider than needed: the axis
    /// is at most 2.5 data ranges (plus one step) wide, so 0.97…1.00 is not drawn on 0…1.
    func assertTicksFit(_ ticks: [(value: Double, label: String)], _ values: [Double], _ name: String,
                        file: StaticString = #filePath, line: UInt = #line) {
        guard let low = ticks.first?.value, let high = ticks.last?.value, let smallest = values.min(), let largest = values.max() else {
            return XCTFail("\(name): no ticks or no data", file: file, line: line)
        }
        for tick in ticks { XCTAssertEqual(Double(tick.label) ?? .nan, tick.value, accuracy: 1e-9 * max(1, abs(tick.value)), name, file: file, line: line) }
        XCTAssertLessThanOrEqual(low, smallest + 1e-6, "\(name): lowest tick above the data", file: file, line: line)
        XCTAssertGreaterThanOrEqual(high, largest - 1e-6, "\(name): highest tick below the data", file: file, line: line)
        let step = ticks.count > 1 ? ticks[1].value - ticks[0].value : 0
        XCTAssertLessThanOrEqual(high - low, 2.5 * (largest - smallest) + step + 1e-9, "\(name): axis not fitted", file: file, line: line)
    }

    func testLinearAxisFitsSARLikeValuesWithNiceTicks() {
        let axis = AxisScale.linear(fitting: [0.9712, 0.985, 1.0000002])
        XCTAssertEqual(axis.ticks.map(\.label), ["0.97", "0.98", "0.99", "1.00"])
        XCTAssertEqual(axis.low, 0.97, accuracy: 1e-12)
        XCTAssertEqual(axis.high, 1.0, accuracy: 1e-12)
        XCTAssertEqual(axis.rangeDescription, "0.97 to 1.00")
        XCTAssertEqual(AxisScale.linear(fitting: [-3, 7]).ticks.map(\.label), ["-4", "-2", "0", "2", "4", "6", "8"])
        XCTAssertEqual(AxisScale.linear(fitting: [1, 1]).ticks.map(\.label), ["0.990", "0.995", "1.000", "1.005", "1.010"])
        XCTAssertEqual(AxisScale.linear(fitting: [0.4]).fraction(0.4), 0.5, accuracy: 1e-12)
    }

    func testLogarithmicAxisSpansWholeDecadesWithReadableLabels() {
        let axis = AxisScale.logarithmic(fitting: [0.0123, 4.5, 0, -1, .infinity])
        XCTAssertEqual(axis.ticks.map(\.label), ["0.01", "0.1", "1", "10"])
        XCTAssertEqual(axis.ticks.map { Double($0.label)! }, axis.ticks.map(\.value))
        XCTAssertEqual(axis.fraction(0), 0)
        XCTAssertEqual(AxisScale.logarithmic(fitting: [1e-7, 1e5]).ticks.first?.label, "1e-7")
    }

    func testTensorLabelsNameBlockAndKind() {
        let labels = TensorLabels(["model.visual.transformer.resblocks.12.mlp.c_fc.weight",
                                   "model.visual.transformer.resblocks.3.attn.in_proj_weight",
                                   "model.visual.positional_embedding", "model.visual.proj", "tall.weight",
                                   "text.layers.0.attn.out_proj.weight", "vision.layers.0.attn.out_proj.weight"])
        XCTAssertEqual(labels.labels, ["12.mlp.c_fc", "3.attn.in_proj", "positional_embedding", "proj", "tall",
                                       "text.layers.0.attn.out_proj", "vision.layers.0.attn.out_proj"])
        XCTAssertEqual(labels.blocks[0], TensorLabels.Block(key: "model.visual.transformer.resblocks.12", index: 12))
        XCTAssertNil(labels.blocks[2])
        XCTAssertNotEqual(labels.blocks[5], labels.blocks[6])
    }

    func testAlphaReportRoundTripAndErrorsNameTheFile() throws {
        let directory = TestFiles.scratchDirectory(for: self)
        let report = AlphaReport(method: "iso_cts", scores: [(0.5, 0.71), (1.0, 0.83), (1.5, 0.83), (2.0, 0.8)])
        try Data(report.json.utf8).write(to: URL(fileURLWithPath: directory + "/a.json"))
        let read = try AlphaReport(contentsOf: directory + "/a.json")
        XCTAssertEqual(read.method, "iso_cts")
        XCTAssertEqual(read.scores.map(\.alpha), [0.5, 1.0, 1.5, 2.0])
        XCTAssertEqual(read.best?.alpha, 1.0, "the first of equal scores")
        for (content, problem) in [("{\"method\": \"iso_x\", \"scores\": []}", "\"method\""), ("{\"method\": \"iso_c\", \"scores\": []}", "\"scores\""),
                                   ("{\"method\": \"iso_c\", \"scores\": [{\"alpha\": 1}]}", "scores[0]"), ("[1,", "not a JSON")] {
            try Data(content.utf8).write(to: URL(fileURLWithPath: directory + "/bad.json"))
            XCTAssertThrowsError(try AlphaReport(contentsOf: directory + "/bad.json")) { error in
                XCTAssertTrue("\(error)".contains(directory + "/bad.json") && "\(error)".contains(problem), "\(error)")
            }
        }
    }

    /// Every figure of a run on small-t3 with two of the methods: parsed, legend = the methods
    /// asked for, a method's colour the same in every file, ticks spanning the data, labels present.
    func testFiguresOfAFixtureRun() throws {
        let directory = TestFiles.fixture("merge/small-t3")
        let methods = ["iso_cts", "task_arithmetic"]
        let report = try AlignmentReport.compute(base: try Checkpoint(path: directory + "/base.safetensors"),
                                                 models: try (0..<3).map { try Checkpoint(path: directory + "/ft_0\($0).safetensors") },
                                                 rules: try methods.map { try MergeRules.standard.make($0) })
        let alpha = [AlphaReport(method: "iso_cts", scores: [(1.0, 0.5), (1.5, 0.61), (2.0, 0.58)]),
                     AlphaReport(method: "task_arithmetic", scores: [(0.1, 0.4), (0.2, 0.45)])]
        let figures = AnalysisFigure.all(report, alphaReports: alpha)
        XCTAssertEqual(figures.map(\.file), ["spectrum.svg", "sar-per-layer.svg", "sar-per-task.svg", "alpha-scores.svg"])
        var colors: [String: Set<String>] = [:]
        for figure in figures {
            let svg = inspect(figure.svg, figure.file)
            XCTAssertEqual(svg.legend, methods, figure.file)
            for (name, used) in svg.colors { colors[name, default: []].formUnion(used) }
            XCTAssertFalse(svg.yTicks.isEmpty, figure.file)
            if let frame = svg.frame {
                for (name, numbers) in svg.lines {
                    for (index, value) in numbers.enumerated() {
                        let range = index % 2 == 0 ? frame.left...frame.right : frame.top...frame.bottom
                        XCTAssertTrue(range.contains(value), "\(figure.file) \(name): \(value) outside the plot area")
                    }
                }
            } else {
                XCTFail("\(figure.file): no plot frame")
            }
            switch figure.file {
            case "sar-per-layer.svg":
                assertTicksFit(svg.yTicks, methods.flatMap { report.entries[$0]!.map(\.averageRatio) }, figure.file)
                XCTAssertEqual(Set(svg.xTicks), ["0.attn.in_proj", "0.attn.out_proj", "0.mlp.c_fc", "0.mlp.c_proj", "positional_embedding", "proj"])
                XCTAssertEqual(svg.groups, ["block 0"])
            case "sar-per-task.svg":
                assertTicksFit(svg.yTicks, methods.flatMap { report.perTask($0) }, figure.file)
                XCTAssertEqual(svg.xTicks, ["ft_00", "ft_01", "ft_02"])
            case "alpha-scores.svg":
                assertTicksFit(svg.yTicks, alpha.flatMap { $0.scores.map(\.score) }, figure.file)
            default:
                let sigma = methods.flatMap { report.spectra[$0]! }.filter { $0 > 0 }
                XCTAssertLessThanOrEqual(svg.yTicks.first!.value, sigma.filter { $0 >= sigma.max()! * 1e-6 }.min()!)
                XCTAssertGreaterThanOrEqual(svg.yTicks.last!.value, sigma.max()!)
            }
        }
        for method in methods { XCTAssertEqual(colors[method], [SeriesStyle.method(method).color], method) }
    }

    /// Each method keeps its look, and no two methods share a colour, a marker or a dash.
    func testMethodStylesAreDistinct() {
        let styles = MergeRules.standard.names.map(SeriesStyle.method)
        XCTAssertEqual(Set(styles.map(\.color)).count, styles.count)
        XCTAssertEqual(Set(styles.map(\.marker)).count, styles.count)
        XCTAssertEqual(Set(styles.map { $0.dash ?? "solid" }).count, styles.count)
    }

    /// Spectra over 20 decades with zeros and infinities, names to escape: well-formed, every line
    /// point inside the plot area.
    func testLogScaleSeriesWithZerosStayInside() {
        let style = SeriesStyle.method("iso_c")
        let chart = SVGChart(title: "spectra <&> \"quoted\"", xLabel: "i", yLabel: "σ", x: .linear(fitting: [1, 50]),
                             y: .logarithmic(fitting: [1, 1e-20]))
        let series = [SVGChart.Series(name: "sum & more", style: style, points: (0..<50).map { (Double($0 + 1), pow(10, -Double($0) * 0.4)) },
                                      connected: true),
                      SVGChart.Series(name: "with zeros", style: style, points: [1, 0.5, 0, 0, 1e-12, .infinity, 0, 1e-30].enumerated()
                                          .map { (Double($0.offset + 1), $0.element) }, connected: true, markerEvery: 2)]
        let svg = inspect(chart.svg(series), "log chart")
        XCTAssertEqual(svg.legend, ["sum & more", "with zeros"])
        guard let frame = svg.frame else { return XCTFail("no plot frame") }
        for (name, numbers) in svg.lines {
            XCTAssertFalse(numbers.isEmpty, name)
            for (index, value) in numbers.enumerated() {
                let range = index % 2 == 0 ? frame.left...frame.right : frame.top...frame.bottom
                XCTAssertTrue(range.contains(value), "\(name): \(value) outside the plot area")
            }
        }
    }
}
