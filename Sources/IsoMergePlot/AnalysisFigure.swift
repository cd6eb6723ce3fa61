import IsoMerge

/// The figures of `isomerge analyze`, each an SVG document with every method in its fixed
/// `plotStyle` and a legend of exactly the methods it shows, in the order given.
public enum AnalysisFigure {
    /// File name and SVG text of every figure for `report`: `spectrum.svg` (when the report has a
    /// plotted tensor), `sar-per-layer.svg`, `sar-per-task.svg`, and `alpha-scores.svg` when
    /// `alphaReports` is not empty.
    public static func all(_ report: AlignmentReport, alphaReports: [AlphaReport] = []) -> [(file: String, svg: String)] {
        var figures: [(file: String, svg: String)] = []
        if let spectrum = spectrum(report) { figures.append(("spectrum.svg", spectrum)) }
        figures.append(("sar-per-layer.svg", alignmentPerLayer(report)))
        figures.append(("sar-per-task.svg", alignmentPerTask(report)))
        if !alphaReports.isEmpty { figures.append(("alpha-scores.svg", alphaScores(alphaReports))) }
        return figures
    }

    /// Horizontal offsets that set K series side by side within one category (in category units),
    /// centred on the category.
    static func sideBySideOffsets(_ count: Int, spread: Double) -> [Double] {
        guard count > 1 else { return [0] }
        return (0..<count).map { spread * (Double($0) / Double(count - 1) - 0.5) }
    }

    /// "y axis 0.96 to 1.00, fitted to the data": the note under a title whose y axis does not start at 0.
    static func fittedRange(_ axis: AxisScale) -> String {
        "y axis \(axis.rangeDescription), fitted to the data"
    }
}
