import Foundation

/// Text and numbers as they go into SVG markup.
enum SVGText {
    /// `text` with the five XML-special characters escaped, for element content and attributes.
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A coordinate with two decimals.
    static func number(_ value: Double) -> String { String(format: "%.2f", value) }
}
