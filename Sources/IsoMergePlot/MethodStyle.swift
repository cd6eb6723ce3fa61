extension SeriesStyle {
    /// Each standard merge method's fixed look in every figure: a colour of the Okabe–Ito palette
    /// (told apart by colour-blind readers), a marker and a dash pattern of its own (told apart in
    /// grey). Any other method is drawn black, with circles and long dashes.
    public static func method(_ name: String) -> SeriesStyle {
        switch name {
        case "average": return SeriesStyle(color: "#555555", marker: .cross, dash: "2 3")
        case "task_arithmetic": return SeriesStyle(color: "#D55E00", marker: .square, dash: "7 3")
        case "ties": return SeriesStyle(color: "#CC79A7", marker: .triangleDown, dash: "1 3")
        case "tsv_m": return SeriesStyle(color: "#E69F00", marker: .triangle, dash: "9 3 2 3")
        case "iso_c": return SeriesStyle(color: "#0072B2", marker: .circle, dash: nil)
        case "iso_cts": return SeriesStyle(color: "#009E73", marker: .diamond, dash: "4 2")
        default: return SeriesStyle(color: "#000000", marker: .circle, dash: "12 4")
        }
    }
}
