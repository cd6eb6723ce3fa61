#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation

/// Parses an SVG file written by `isomerge analyze` (failing on malformed XML) and reads its legend
/// entries in order and the stroke colours used per series (`data-series`, also inside a legend entry).
final class LegendReader: NSObject, XMLParserDelegate {
    private(set) var entries: [String] = []
    private(set) var colors: [String: Set<String>] = [:]
    private var entry: String?

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    init(path: String) throws {
        super.init()
        guard let parser = XMLParser(contentsOf: URL(fileURLWithPath: path)) else { throw Malformed(description: "\(path): cannot read") }
        parser.delegate = self
        guard parser.parse() else { throw Malformed(description: "\(path): not well-formed XML: \(String(describing: parser.parserError))") }
    }

    func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if element == "g", attributes["class"] == "legend-entry", let name = attributes["data-series"] {
            entries.append(name)
            entry = name
        }
        if let name = attributes["data-series"] ?? entry, let color = attributes["stroke"] { colors[name, default: []].insert(color) }
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        if element == "g" { entry = nil }
    }
}
