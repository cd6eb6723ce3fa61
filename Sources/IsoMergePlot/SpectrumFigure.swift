import Foundation
import IsoMerge

extension AnalysisFigure {
    /// Singular values below this fraction of the largest are left out: they are rounding noise
    /// and would stretch the log axis over decades of nothing.
    static let spectrumFloor = 1e-6

    /// The paper's Figure 1 view: σ_i of τ_M against i for the report's plotted tensor, one line
    /// per method, log₁₀ y axis (an isotropic merge is a flat line). Nil without a plotted tensor.
    public static func spectrum(_ report: AlignmentReport) -> String? {
        guard let tensor = report.plotTensor else { return nil }
        let methods = report.methods.filter { report.spectra[$0] != nil }
        let largest = methods.flatMap { report.spectra[$0]! }.filter(\.isFinite).max() ?? 0
        let floor = largest * spectrumFloor
        let count = methods.map { report.spectra[$0]!.count }.max() ?? 1
        let every = max(1, count / 8)
        let series = methods.enumerated().map { k, method in
            let sigma = report.spectra[method]!
            return SVGChart.Series(name: method, style: SeriesStyle.method(method),
                                   points: sigma.enumerated().map { (Double($0.offset + 1), $0.element >= floor ? $0.element : .nan) },
                                   connected: true, markerEvery: every, markerOffset: k * every / max(1, methods.count))
        }
        let label = TensorLabels(report.tensors).labels[report.tensors.firstIndex(of: tensor) ?? 0]
        let leftOut = methods.contains { report.spectra[$0]!.contains { $0 < floor } }
        var chart = SVGChart(title: "Singular values of τ_M for \(label)",
                             note: tensor + (leftOut ? " (log scale; σ below 1e-6·σ_max left out)" : " (log scale)"),
                             xLabel: "index i (descending σ)", yLabel: "σ_i of the merged task vector",
                             x: .linear(fitting: [1, Double(count)]), y: .logarithmic(fitting: series.flatMap { $0.points.map(\.y) }))
        chart.height = 420
        return chart.svg(series)
    }
}
