import Foundation

/// One axis of a chart: the interval of data values it spans and its labelled ticks. A linear
/// scale is fitted to the data (from the nice tick at or below the smallest value to the one at or
/// above the largest, about five steps of 1, 2, 2.5 or 5 × 10ⁿ), a logarithmic one spans whole
/// decades, and a categorical one puts category i at i (from −0.5 to n − 0.5).
public struct AxisScale: Sendable {
    public struct Tick: Sendable {
        public let value: Double
        public let label: String
    }

    /// The ends of the axis in data units (positive on a logarithmic scale).
    public let low: Double
    public let high: Double
    public let logarithmic: Bool
    public let ticks: [Tick]

    /// A linear scale through the finite `values`; a single value (or none) gets a band of ±1 % (±1
    /// around 0) so that it is drawn mid-axis.
    public static func linear(fitting values: [Double], steps: Int = 5) -> AxisScale {
        let finite = values.filter(\.isFinite)
        var (smallest, largest) = (finite.min() ?? 0, finite.max() ?? 1)
        if largest - smallest <= 1e-12 * max(abs(largest), abs(smallest)) {
            let pad = smallest == 0 ? 1 : abs(smallest) * 0.01
            (smallest, largest) = (smallest - pad, largest + pad)
        }
        let step = niceStep((largest - smallest) / Double(steps))
        // A value within a thousandth of a step beyond a tick (a SAR of 1.0000002) opens no further step.
        let first = (smallest / step + 1e-3).rounded(.down), last = (largest / step - 1e-3).rounded(.up)
        let decimals = decimalsShowing(step)
        let ticks = stride(from: first, through: last, by: 1).map { index in
            Tick(value: index * step, label: format(index * step, decimals: decimals))
        }
        return AxisScale(low: first * step, high: last * step, logarithmic: false, ticks: ticks)
    }

    /// A log₁₀ scale over whole decades around the positive finite `values`, a tick per decade (per
    /// few decades beyond eight).
    public static func logarithmic(fitting values: [Double]) -> AxisScale {
        let positive = values.filter { $0 > 0 && $0.isFinite }
        let lowDecade = Int(log10(positive.min() ?? 0.1).rounded(.down))
        let highDecade = max(Int(log10(positive.max() ?? 1).rounded(.up)), lowDecade + 1)
        let every = max(1, (highDecade - lowDecade + 7) / 8)
        let ticks = stride(from: lowDecade, through: highDecade, by: every).map { Tick(value: pow(10, Double($0)), label: decadeLabel($0)) }
        return AxisScale(low: pow(10, Double(lowDecade)), high: pow(10, Double(highDecade)), logarithmic: true, ticks: ticks)
    }

    /// Categories at 0, 1, … with their names as tick labels.
    public static func categorical(_ names: [String]) -> AxisScale {
        AxisScale(low: -0.5, high: Double(names.count) - 0.5, logarithmic: false,
                  ticks: names.enumerated().map { Tick(value: Double($0.offset), label: $0.element) })
    }

    /// Where `value` lies between the ends, 0 at `low` and 1 at `high`, clamped into 0…1 (a
    /// non-positive value on a logarithmic scale maps to 0).
    public func fraction(_ value: Double) -> Double {
        let position: Double
        if logarithmic {
            position = value > 0 ? (log10(value) - log10(low)) / (log10(high) - log10(low)) : 0
        } else {
            position = (value - low) / (high - low)
        }
        return position.isNaN ? 0 : min(1, max(0, position))
    }

    /// "lowest to highest" in tick notation, for stating the range of a fitted axis.
    public var rangeDescription: String {
        "\(ticks.first?.label ?? "") to \(ticks.last?.label ?? "")"
    }

    /// The smallest of 1, 2, 2.5, 5 × 10ⁿ at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        return [1.0, 2.0, 2.5, 5.0, 10.0].first { raw <= $0 * magnitude * (1 + 1e-12) }! * magnitude
    }

    /// The fewest decimals (at most 12) that print multiples of `step` exactly.
    static func decimalsShowing(_ step: Double) -> Int {
        (0...12).first { decimals in
            let scaled = step * pow(10, Double(decimals))
            return abs(scaled - scaled.rounded()) < 1e-6 * scaled
        } ?? 12
    }

    static func format(_ value: Double, decimals: Int) -> String {
        let magnitude = abs(value)
        if magnitude != 0 && (magnitude >= 1e6 || magnitude < 1e-4) { return String(format: "%g", value) }
        let text = String(format: "%.\(decimals)f", value)
        return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
    }

    /// 10^exponent as plain decimals from 0.001 to 1000, as 1eN beyond (both read back by `Double`).
    static func decadeLabel(_ exponent: Int) -> String {
        switch exponent {
        case ..<(-3), 4...: return "1e\(exponent)"
        case ..<0: return "0." + String(repeating: "0", count: -exponent - 1) + "1"
        default: return "1" + String(repeating: "0", count: exponent)
        }
    }
}
