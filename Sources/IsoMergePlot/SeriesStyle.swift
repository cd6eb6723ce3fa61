import Foundation

/// How one series is drawn: colour, marker shape and dash pattern, so that series stay apart in
/// colour and in grey.
public struct SeriesStyle: Equatable, Sendable {
    public enum Marker: String, Sendable, CaseIterable {
        case circle, square, triangle, diamond, triangleDown, cross
    }

    /// An SVG colour (#rrggbb).
    public let color: String
    public let marker: Marker
    /// An SVG stroke-dasharray; nil draws a solid line.
    public let dash: String?

    public init(color: String, marker: Marker, dash: String?) {
        self.color = color
        self.marker = marker
        self.dash = dash
    }

    /// Path data of the marker centred on (x, y), `radius` from centre to edge.
    func markerPath(x: Double, y: Double, radius r: Double) -> String {
        func point(_ px: Double, _ py: Double) -> String { SVGText.number(px) + " " + SVGText.number(py) }
        switch marker {
        case .circle:
            return "M\(point(x - r, y)) A\(point(r, r)) 0 1 0 \(point(x + r, y)) A\(point(r, r)) 0 1 0 \(point(x - r, y))Z"
        case .square:
            let s = r * 0.85
            return "M\(point(x - s, y - s)) L\(point(x + s, y - s)) L\(point(x + s, y + s)) L\(point(x - s, y + s))Z"
        case .triangle:
            return "M\(point(x, y - r * 1.15)) L\(point(x + r, y + r * 0.75)) L\(point(x - r, y + r * 0.75))Z"
        case .triangleDown:
            return "M\(point(x, y + r * 1.15)) L\(point(x + r, y - r * 0.75)) L\(point(x - r, y - r * 0.75))Z"
        case .diamond:
            return "M\(point(x, y - r * 1.2)) L\(point(x + r, y)) L\(point(x, y + r * 1.2)) L\(point(x - r, y))Z"
        case .cross:
            return "M\(point(x - r, y - r)) L\(point(x + r, y + r)) M\(point(x - r, y + r)) L\(point(x + r, y - r))"
        }
    }

    /// Marker paint: outlined shapes are filled with the colour, the cross is a stroke.
    var markerPaint: String {
        marker == .cross ? "fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\""
            : "fill=\"\(color)\" stroke=\"\(color)\" stroke-width=\"0.8\""
    }
}
