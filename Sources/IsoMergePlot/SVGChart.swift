import Foundation

/// A chart as one self-contained SVG document (no scripts, no external fonts): a title, an optional
/// note under it (where a fitted axis states its range), a legend row of the series, the plot frame
/// with y grid lines and ticks, x ticks (turned when they would overlap), shaded groups of
/// categories with their names above the frame, and each series as a line and/or markers. All text
/// is SVG <text>. Every coordinate is clamped into the plot area. Markup the tests rely on:
/// `path.series` (a line) and `path.markers` carry `data-series` and the series' colour;
/// `g.legend-entry` carries `data-series`; `text.x-tick`/`text.y-tick` carry `data-value`;
/// `text.x-group` names a group.
public struct SVGChart {
    public struct Series {
        public let name: String
        public let style: SeriesStyle
        /// Points in data units; a non-finite y (or a non-positive one on a log axis) breaks the line.
        public let points: [(x: Double, y: Double)]
        /// Draw a line through the points.
        public let connected: Bool
        /// Draw a marker on every `markerEvery`-th point from `markerOffset` (0: none).
        public let markerEvery: Int
        public let markerOffset: Int

        public init(name: String, style: SeriesStyle, points: [(x: Double, y: Double)], connected: Bool,
                    markerEvery: Int = 1, markerOffset: Int = 0) {
            self.name = name
            self.style = style
            self.points = points
            self.connected = connected
            self.markerEvery = markerEvery
            self.markerOffset = markerOffset
        }
    }

    /// Categories `first...last` of a categorical x axis drawn as one band.
    public struct Group {
        public let name: String
        public let first: Int
        public let last: Int
        public init(name: String, first: Int, last: Int) {
            self.name = name
            self.first = first
            self.last = last
        }
    }

    public var title: String
    public var note: String?
    public var xLabel: String
    public var yLabel: String
    public var x: AxisScale
    public var y: AxisScale
    public var groups: [Group] = []
    public var width = 760.0
    public var height = 440.0

    public init(title: String, note: String? = nil, xLabel: String, yLabel: String, x: AxisScale, y: AxisScale) {
        self.title = title
        self.note = note
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x
        self.y = y
    }

    static let tickFont = 11.0, labelFont = 12.5, titleFont = 15.0
    /// Estimated advance of one character of the sans-serif font, in units of the font size.
    static let characterWidth = 0.56

    /// The plot area in screen units (y grows downwards).
    public struct Frame {
        public let left: Double, top: Double, right: Double, bottom: Double
        var width: Double { right - left }
        var height: Double { bottom - top }
    }

    /// Where the plot area lies for `series` (its legend rows push it down).
    public func frame(for series: [Series]) -> Frame {
        let yTickWidth = Double(y.ticks.map(\.label.count).max() ?? 1) * Self.tickFont * Self.characterWidth
        let left = 30 + yTickWidth + 10
        let top = legendTop + Double(legendRows(series).count) * 18 + (groups.isEmpty ? 8 : 22)
        let bottom = height - 36 - xTickDepth(plotWidth: width - 20 - left)
        return Frame(left: left, top: top, right: width - 20, bottom: bottom)
    }

    /// The whole document; each point of `highlighted` gets a ring in its series' colour (not in the
    /// legend).
    public func svg(_ series: [Series], highlighted: [Series] = []) -> String {
        let frame = frame(for: series)
        var body = "<title>\(SVGText.escaped(title))</title>\n"
        body += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        body += text(title, x: width / 2, y: 22, size: Self.titleFont, anchor: "middle", extra: "font-weight=\"bold\"")
        if let note { body += text(note, x: width / 2, y: 40, size: 11.5, anchor: "middle", extra: "fill=\"#333\"") }
        body += bands(frame) + yAxis(frame) + xAxis(frame) + legend(series)
        body += "<rect x=\"\(SVGText.number(frame.left))\" y=\"\(SVGText.number(frame.top))\" width=\"\(SVGText.number(frame.width))\" "
            + "height=\"\(SVGText.number(frame.height))\" fill=\"none\" stroke=\"#444\"/>\n"
        for s in series { body += draw(s, frame) }
        for s in highlighted { body += rings(s, frame) }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
            + body + "</svg>\n"
    }

    // MARK: - Layout

    var legendTop: Double { note == nil ? 42 : 58 }

    /// Legend entries split into rows that fit the width: (series index, x offset) per entry.
    func legendRows(_ series: [Series]) -> [[(index: Int, x: Double)]] {
        var rows: [[(index: Int, x: Double)]] = [[]]
        var cursor = 0.0
        for (index, s) in series.enumerated() {
            let entryWidth = 36 + Double(s.name.count) * 12 * Self.characterWidth + 18
            if cursor + entryWidth > width - 40, !rows[rows.count - 1].isEmpty {
                rows.append([])
                cursor = 0
            }
            rows[rows.count - 1].append((index, cursor))
            cursor += entryWidth
        }
        return rows.filter { !$0.isEmpty }
    }

    /// Whether x tick labels are turned upright because they would overlap side by side.
    func turnsXTicks(plotWidth: Double) -> Bool {
        guard let longest = x.ticks.map(\.label.count).max(), x.ticks.count > 1 else { return false }
        return Double(longest) * Self.tickFont * Self.characterWidth + 6 > plotWidth / Double(x.ticks.count)
    }

    /// Height taken by the x tick labels below the frame.
    func xTickDepth(plotWidth: Double) -> Double {
        guard turnsXTicks(plotWidth: plotWidth) else { return 22 }
        let longest = Double(x.ticks.map(\.label.count).max() ?? 0) * Self.tickFont * Self.characterWidth
        return 14 + longest
    }

    func screenX(_ value: Double, _ frame: Frame) -> Double { frame.left + frame.width * x.fraction(value) }
    func screenY(_ value: Double, _ frame: Frame) -> Double { frame.bottom - frame.height * y.fraction(value) }

    // MARK: - Pieces

    func text(_ content: String, x: Double, y: Double, size: Double, anchor: String = "start", extra: String = "") -> String {
        "<text x=\"\(SVGText.number(x))\" y=\"\(SVGText.number(y))\" font-size=\"\(size)\" text-anchor=\"\(anchor)\"\(extra.isEmpty ? "" : " " + extra)>"
            + SVGText.escaped(content) + "</text>\n"
    }

    func bands(_ frame: Frame) -> String {
        var s = ""
        for (index, group) in groups.enumerated() {
            let x0 = screenX(Double(group.first) - 0.5, frame), x1 = screenX(Double(group.last) + 0.5, frame)
            if index % 2 == 0 {
                s += "<rect x=\"\(SVGText.number(x0))\" y=\"\(SVGText.number(frame.top))\" width=\"\(SVGText.number(x1 - x0))\" "
                    + "height=\"\(SVGText.number(frame.height))\" fill=\"#ececec\"/>\n"
            }
            s += text(group.name, x: (x0 + x1) / 2, y: frame.top - 6, size: 10.5, anchor: "middle", extra: "class=\"x-group\"")
        }
        return s
    }

    func yAxis(_ frame: Frame) -> String {
        var s = ""
        for tick in y.ticks {
            let ty = screenY(tick.value, frame)
            s += "<line x1=\"\(SVGText.number(frame.left))\" y1=\"\(SVGText.number(ty))\" x2=\"\(SVGText.number(frame.right))\" "
                + "y2=\"\(SVGText.number(ty))\" stroke=\"#d0d0d0\"/>\n"
            s += text(tick.label, x: frame.left - 6, y: ty + 4, size: Self.tickFont, anchor: "end",
                      extra: "class=\"y-tick\" data-value=\"\(tick.value)\"")
        }
        s += text(yLabel, x: 0, y: 0, size: Self.labelFont, anchor: "middle",
                  extra: "transform=\"translate(16 \(SVGText.number((frame.top + frame.bottom) / 2))) rotate(-90)\"")
        return s
    }

    func xAxis(_ frame: Frame) -> String {
        var s = ""
        let turned = turnsXTicks(plotWidth: frame.width)
        for tick in x.ticks {
            let tx = screenX(tick.value, frame)
            s += "<line x1=\"\(SVGText.number(tx))\" y1=\"\(SVGText.number(frame.bottom))\" x2=\"\(SVGText.number(tx))\" "
                + "y2=\"\(SVGText.number(frame.bottom + 4))\" stroke=\"#444\"/>\n"
            let attributes = "class=\"x-tick\" data-value=\"\(tick.value)\""
            if turned {
                s += text(tick.label, x: 0, y: 0, size: Self.tickFont, anchor: "end", extra: attributes
                          + " transform=\"translate(\(SVGText.number(tx + 4)) \(SVGText.number(frame.bottom + 10))) rotate(-90)\"")
            } else {
                s += text(tick.label, x: tx, y: frame.bottom + 17, size: Self.tickFont, anchor: "middle", extra: attributes)
            }
        }
        s += text(xLabel, x: (frame.left + frame.right) / 2, y: height - 10, size: Self.labelFont, anchor: "middle")
        return s
    }

    func legend(_ series: [Series]) -> String {
        var s = "<g class=\"legend\">\n"
        for (row, entries) in legendRows(series).enumerated() {
            let ly = legendTop + 18 * Double(row)
            for (index, offset) in entries {
                let entry = series[index], lx = 40 + offset
                s += "<g class=\"legend-entry\" data-series=\"\(SVGText.escaped(entry.name))\">\n"
                s += "<line x1=\"\(SVGText.number(lx))\" y1=\"\(SVGText.number(ly - 4))\" x2=\"\(SVGText.number(lx + 30))\" "
                    + "y2=\"\(SVGText.number(ly - 4))\" stroke=\"\(entry.style.color)\" stroke-width=\"2\"\(dash(entry.style))/>\n"
                s += "<path d=\"\(entry.style.markerPath(x: lx + 15, y: ly - 4, radius: 4))\" \(entry.style.markerPaint)/>\n"
                s += text(entry.name, x: lx + 36, y: ly, size: 12)
                s += "</g>\n"
            }
        }
        return s + "</g>\n"
    }

    func dash(_ style: SeriesStyle) -> String {
        style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
    }

    func rings(_ series: Series, _ frame: Frame) -> String {
        series.points.map { point in
            "<circle class=\"highlight\" data-series=\"\(SVGText.escaped(series.name))\" cx=\"\(SVGText.number(screenX(point.x, frame)))\" "
                + "cy=\"\(SVGText.number(screenY(point.y, frame)))\" r=\"8\" fill=\"none\" stroke=\"\(series.style.color)\" stroke-width=\"1.5\"/>\n"
        }.joined()
    }

    func draw(_ series: Series, _ frame: Frame) -> String {
        let name = SVGText.escaped(series.name)
        func drawn(_ value: Double) -> Bool { value.isFinite && (!y.logarithmic || value > 0) }
        var s = ""
        if series.connected {
            var d = "", broken = true
            for point in series.points {
                guard drawn(point.y) else {
                    broken = true
                    continue
                }
                d += (broken ? "M" : " L") + SVGText.number(screenX(point.x, frame)) + " " + SVGText.number(screenY(point.y, frame))
                broken = false
            }
            s += "<path class=\"series\" data-series=\"\(name)\" d=\"\(d)\" fill=\"none\" stroke=\"\(series.style.color)\" "
                + "stroke-width=\"1.8\" stroke-linejoin=\"round\"\(dash(series.style))/>\n"
        }
        if series.markerEvery > 0 {
            var d = ""
            for (index, point) in series.points.enumerated()
            where index >= series.markerOffset && (index - series.markerOffset) % series.markerEvery == 0 && drawn(point.y) {
                d += series.style.markerPath(x: screenX(point.x, frame), y: screenY(point.y, frame), radius: 4) + " "
            }
            s += "<path class=\"markers\" data-series=\"\(name)\" d=\"\(d)\" \(series.style.markerPaint)/>\n"
        }
        return s
    }
}
