/// Each merge method's fixed look in every figure: a colour of the Okabe–Ito palette (told apart by
/// colour-blind readers), a marker and a dash pattern of its own (told apart in grey).
extension MergeMethod {
    public var plotStyle: SeriesStyle {
        switch self {
        case .average: return SeriesStyle(color: "#555555", marker: .cross, dash: "2 3")
        case .taskArithmetic: return SeriesStyle(color: "#D55E00", marker: .square, dash: "7 3")
        case .ties: return SeriesStyle(color: "#CC79A7", marker: .triangleDown, dash: "1 3")
        case .tsvM: return SeriesStyle(color: "#E69F00", marker: .triangle, dash: "9 3 2 3")
        case .isoC: return SeriesStyle(color: "#0072B2", marker: .circle, dash: nil)
        case .isoCTS: return SeriesStyle(color: "#009E73", marker: .diamond, dash: "4 2")
        }
    }
}
