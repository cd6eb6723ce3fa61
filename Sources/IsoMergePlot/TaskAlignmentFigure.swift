import Foundation
import IsoMerge

extension AnalysisFigure {
    /// Mean SAR over tensors of each task, methods side by side within each task (a dot plot: no
    /// bars, so the fitted y axis does not exaggerate lengths), y axis range stated in the note.
    public static func alignmentPerTask(_ report: AlignmentReport) -> String {
        let tasks = report.tasks.map { ($0 as NSString).deletingPathExtension }
        let offsets = sideBySideOffsets(report.methods.count, spread: 0.5)
        let series = report.methods.enumerated().map { k, method in
            SVGChart.Series(name: method, style: SeriesStyle.method(method),
                            points: report.perTask(method).enumerated().map { (Double($0.offset) + offsets[k], $0.element) },
                            connected: false)
        }
        let yAxis = AxisScale.linear(fitting: series.flatMap { $0.points.map(\.y) })
        var chart = SVGChart(title: "Subspace alignment per task (mean SAR over \(report.tensors.count) tensors)",
                             note: fittedRange(yAxis), xLabel: "task (fine-tuned checkpoint)", yLabel: "mean SAR (1 = task fully kept)",
                             x: .categorical(tasks), y: yAxis)
        chart.height = 400
        return chart.svg(series)
    }
}
