import Foundation
import IsoMerge

extension AnalysisFigure {
    /// Score against α of each α search, one line per report, the best α of each ringed and named
    /// in the note; both axes fitted to the data.
    public static func alphaScores(_ reports: [AlphaReport]) -> String {
        let series = reports.map { report in
            SVGChart.Series(name: report.method, style: SeriesStyle.method(report.method),
                            points: report.scores.map { ($0.alpha, $0.score) }, connected: true)
        }
        let best = reports.compactMap { report in report.best.map { (report.method, $0) } }
        var chart = SVGChart(title: "α search: score against α",
                             note: "best: " + best.map { "\($0.0) α = \(formatted($0.1.alpha)) (\(formatted($0.1.score)))" }
                                 .joined(separator: ", "),
                             xLabel: "α (scaling of the merged task vector)", yLabel: "score (higher is better)",
                             x: .linear(fitting: series.flatMap { $0.points.map(\.x) }),
                             y: .linear(fitting: series.flatMap { $0.points.map(\.y) }))
        chart.height = 400
        let rings = best.map { method, point in
            SVGChart.Series(name: method, style: SeriesStyle(color: SeriesStyle.method(method).color, marker: .circle, dash: nil),
                            points: [(point.alpha, point.score)], connected: false)
        }
        return chart.svg(series, highlighted: rings)
    }

    static func formatted(_ value: Double) -> String { String(format: "%.4g", value) }
}
