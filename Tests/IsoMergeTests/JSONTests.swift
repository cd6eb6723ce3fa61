import IsoMerge
import XCTest

/// The hand-written JSON reader and writer on their own: what they accept, what they refuse and
/// where, and that writing then reading gives the same value.
final class JSONTests: XCTestCase {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    func testValuesKeepTheirSourceFormAndOrder() throws {
        let value = try parse(#" { "b": [1, 1.0, -0, 1e30, 12345678901234567890], "a": {"x": null, "y": true}, "s": "\u00e9\n\ud83d\ude00" } "#)
        guard case let .object(members) = value else { return XCTFail("not an object") }
        XCTAssertEqual(members.map(\.key), ["b", "a", "s"], "keys in file order")
        XCTAssertEqual(value["b"], .array([.number("1"), .number("1.0"), .number("-0"), .number("1e30"), .number("12345678901234567890")]))
        XCTAssertEqual(value["a"]?["y"], .bool(true))
        XCTAssertEqual(value["s"], .string("é\n😀"))
        XCTAssertEqual(value["b"].map { if case let .array(items) = $0 { items[4].double } else { nil } } ?? nil, 1.2345678901234567e19)
        XCTAssertEqual(JSONValue.number("7").nonNegativeInteger, 7)
        XCTAssertNil(JSONValue.number("-1").nonNegativeInteger)
        XCTAssertNil(JSONValue.number("1.5").nonNegativeInteger)
    }

    func testSerializingThenParsingGivesTheSameValue() throws {
        let texts = [#"{"a":[1,2,{"b":null}],"c":"quote \" backslash \\ tab \t control \u0001"}"#, "[]", "{}", "\"\"", "-1.5e-7",
                     #"[true,false,null,"\u2028"]"#]
        for text in texts {
            let value = try parse(text)
            XCTAssertEqual(try parse(value.serialized), value, text)
            XCTAssertEqual(try parse(value.serialized).serialized, value.serialized, text)
        }
        XCTAssertEqual(JSONValue.quote("a\u{1}b\"c"), #""a\u0001b\"c""#)
    }

    func testMalformedDocumentsAreRefusedWithTheirOffset() {
        let cases: [(String, String)] = [
            ("", "at byte 0"), ("{", "at byte 1"), (#"{"a":1,"a":2}"#, "duplicate"), ("[1,]", "at byte 3"),
            ("01", "at byte"), ("1.", "at byte"), ("+1", "at byte 0"), (#""\x""#, "at byte"), (#""\ud800""#, "at byte"),
            ("\"a\u{1}\"", "at byte"), ("[1] 2", "at byte 4"), ("nul", "invalid literal"), ("[\u{FF}]", "at byte 1"),
            (String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), "deeper than"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(text.prefix(20)): \(error)")
            }
        }
    }
}
