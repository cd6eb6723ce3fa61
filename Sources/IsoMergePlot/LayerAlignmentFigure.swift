import IsoMerge

extension AnalysisFigure {
    /// Mean SAR over tasks of every matrix-path tensor, labelled `block.kind`, in natural name
    /// order with each block shaded and numbered, one marker per method side by side (no lines: the
    /// tensors of a block are different kinds of matrix), y axis
    /// fitted to the values (its range stated in the note).
    public static func alignmentPerLayer(_ report: AlignmentReport) -> String {
        let order = report.tensors.indices.sorted { AlignmentReport.naturallyBefore(report.tensors[$0], report.tensors[$1]) }
        let names = TensorLabels(order.map { report.tensors[$0] })
        let offsets = sideBySideOffsets(report.methods.count, spread: 0.45)
        let series = report.methods.enumerated().map { k, method in
            let entries = report.entries[method]!
            return SVGChart.Series(name: method, style: SeriesStyle.method(method),
                                   points: order.enumerated().map { (Double($0.offset) + offsets[k], entries[$0.element].averageRatio) },
                                   connected: false)
        }
        let yAxis = AxisScale.linear(fitting: series.flatMap { $0.points.map(\.y) })
        // "block N" above each band while bands are wide enough for it (about six tensors a block).
        let numbersOnly = names.labels.count > 24
        var groups: [SVGChart.Group] = []
        for (position, block) in names.blocks.enumerated() {
            guard let block else { continue }
            if let last = groups.last, last.last == position - 1, names.blocks[last.first] == block {
                groups[groups.count - 1] = SVGChart.Group(name: last.name, first: last.first, last: position)
            } else {
                groups.append(SVGChart.Group(name: numbersOnly ? "\(block.index)" : "block \(block.index)", first: position, last: position))
            }
        }
        var chart = SVGChart(title: "Subspace alignment per layer (mean SAR over \(report.tasks.count) tasks)",
                             note: fittedRange(yAxis) + (groups.isEmpty ? "" : "; shaded: one transformer block each, numbered above"),
                             xLabel: "tensor (block.kind)", yLabel: "mean SAR (1 = task fully kept)",
                             x: .categorical(names.labels), y: yAxis)
        chart.groups = groups
        chart.height = 470
        return chart.svg(series)
    }
}
