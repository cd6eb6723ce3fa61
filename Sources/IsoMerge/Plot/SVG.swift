import Foundation

/// A small SVG chart writer (no dependencies): line charts with linear or log₁₀ y axes and
/// grouped bar charts, with axes, ticks, labels and a legend. Each series is exactly one <path>
/// (bars are subpaths of their series' path), and every coordinate is clamped into the plot area,
/// so spectra spanning many orders of magnitude — zeros included — stay inside.
public struct SVGChart {
    public struct Series {
        public let name: String
        public let values: [Double]
        public init(name: String, values: [Double]) {
            self.name = name
            self.values = values
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logarithmic = false
    public let width = 860.0, height = 500.0
    /// The plot area: x from `left` to `width − right`, y from `top` to `height − bottom`.
    public let left = 80.0, right = 190.0, top = 45.0, bottom = 60.0

    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    public init(title: String, xLabel: String, yLabel: String, logarithmic: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logarithmic = logarithmic
    }

    var plotWidth: Double { width - left - right }
    var plotHeight: Double { height - top - bottom }

    /// Lines through (i, values[i]) for each series; x runs over indices 1…n.
    public func lines(_ series: [Series]) -> String {
        let count = max(2, series.map(\.values.count).max() ?? 2)
        let (low, high) = yRange(series.flatMap(\.values))
        var body = axes(low: low, high: high, xTicks: xTicks(count: count))
        for (index, s) in series.enumerated() {
            var d = ""
            for (i, value) in s.values.enumerated() {
                let x = left + plotWidth * Double(i) / Double(count - 1)
                d += (i == 0 ? "M" : " L") + String(format: "%.2f %.2f", x, y(value, low: low, high: high))
            }
            body += "<path class=\"series\" data-series=\"\(escape(s.name))\" d=\"\(d)\" fill=\"none\" stroke=\"\(color(index))\" stroke-width=\"2\"/>\n"
        }
        return document(body + legend(series.map(\.name), filled: false))
    }

    /// Grouped bars: for each group (x category) one bar per series.
    public func bars(groups: [String], _ series: [Series]) -> String {
        let (low, high) = yRange(series.flatMap(\.values) + [0])
        let groupWidth = plotWidth / Double(max(1, groups.count))
        let barWidth = groupWidth * 0.8 / Double(max(1, series.count))
        let ticks = groups.enumerated().map { (left + groupWidth * (Double($0.offset) + 0.5), $0.element) }
        var body = axes(low: low, high: high, xTicks: ticks)
        let baseline = y(max(low, 0), low: low, high: high)
        for (index, s) in series.enumerated() {
            var d = ""
            for (g, value) in s.values.enumerated() where g < groups.count {
                let x = left + groupWidth * (Double(g) + 0.1) + barWidth * Double(index)
                let top = y(value, low: low, high: high)
                d += String(format: "M%.2f %.2f H%.2f V%.2f H%.2f Z ", x, baseline, x + barWidth, top, x)
            }
            body += "<path class=\"series\" data-series=\"\(escape(s.name))\" d=\"\(d)\" fill=\"\(color(index))\"/>\n"
        }
        return document(body + legend(series.map(\.name), filled: true))
    }

    // MARK: - Scales

    /// The y range: [0, nice max] linear; on a log scale whole decades around the positive values,
    /// zeros and negatives drawn at the bottom edge.
    func yRange(_ values: [Double]) -> (Double, Double) {
        let finite = values.filter(\.isFinite)
        if logarithmic {
            let positive = finite.filter { $0 > 0 }
            guard let smallest = positive.min(), let largest = positive.max() else { return (0, 1) }
            let low = floor(log10(smallest)), high = max(ceil(log10(largest)), low + 1)
            return (low, high)
        }
        let largest = max(finite.max() ?? 1, 0), smallest = min(finite.min() ?? 0, 0)
        let span = niceStep((largest - smallest) / 5) * 5
        return (smallest < 0 ? -span : 0, largest <= 0 ? 1 : max(niceCeil(largest), 1e-300))
    }

    /// Screen y for a value, clamped into the plot area.
    func y(_ value: Double, low: Double, high: Double) -> Double {
        var v = value
        if logarithmic { v = value > 0 && value.isFinite ? log10(value) : low }
        if !v.isFinite { v = v > 0 ? high : low }
        let fraction = min(1, max(0, (v - low) / (high - low)))
        return top + plotHeight * (1 - fraction)
    }

    func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        for factor in [1.0, 2.0, 2.5, 5.0, 10.0] where raw <= factor * magnitude { return factor * magnitude }
        return 10 * magnitude
    }

    func niceCeil(_ value: Double) -> Double {
        let step = niceStep(value / 5)
        return ceil(value / step) * step
    }

    func xTicks(count: Int) -> [(Double, String)] {
        let step = max(1, Int(niceStep(Double(count) / 8)))
        var ticks: [(Double, String)] = []
        var i = 0
        while i < count {
            ticks.append((left + plotWidth * Double(i) / Double(count - 1), String(i + 1)))
            i += step
        }
        return ticks
    }

    // MARK: - Pieces

    func axes(low: Double, high: Double, xTicks: [(Double, String)]) -> String {
        let (x0, x1, y0, y1) = (left, width - right, top, height - bottom)
        var s = "<rect x=\"\(x0)\" y=\"\(y0)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#888\"/>\n"
        s += "<text x=\"\(width / 2 - right / 2)\" y=\"25\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>\n"
        s += "<text x=\"\((x0 + x1) / 2)\" y=\"\(height - 15)\" text-anchor=\"middle\" font-size=\"13\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(20 \((y0 + y1) / 2)) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(escape(yLabel))</text>\n"
        for (x, label) in xTicks {
            s += String(format: "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#888\"/>\n", x, y1, x, y1 + 5)
            s += String(format: "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"11\">%@</text>\n", x, y1 + 18, escape(label))
        }
        let yTicks: [(Double, String)]
        if logarithmic {
            let decades = Int(high - low)
            let stride = max(1, decades / 8)
            yTicks = Swift.stride(from: Int(low), through: Int(high), by: stride).map { (Double($0), "1e\($0)") }
        } else {
            let step = niceStep((high - low) / 5)
            yTicks = Swift.stride(from: low, through: high + step / 2, by: step).map { ($0, String(format: "%g", $0)) }
        }
        for (value, label) in yTicks {
            let ty = top + plotHeight * (1 - min(1, max(0, (value - low) / (high - low))))
            s += String(format: "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#ddd\"/>\n", x0, ty, x1, ty)
            s += String(format: "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" font-size=\"11\">%@</text>\n", x0 - 6, ty + 4, escape(label))
        }
        return s
    }

    func legend(_ names: [String], filled: Bool) -> String {
        var s = ""
        for (index, name) in names.enumerated() {
            let ly = top + 10 + 20 * Double(index), lx = width - right + 15
            if filled {
                s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" fill=\"%@\"/>\n", lx, ly - 8, color(index))
            } else {
                s += String(format: "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%@\" stroke-width=\"2\"/>\n",
                            lx, ly - 3, lx + 14, ly - 3, color(index))
            }
            s += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%@</text>\n", lx + 20, ly + 1, escape(name))
        }
        return s
    }

    func document(_ body: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" + body + "</svg>\n"
    }

    func color(_ index: Int) -> String { Self.colors[index % Self.colors.count] }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
