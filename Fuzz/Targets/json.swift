@testable import IsoMerge

/// JSON values (`JSONValue.parse`, the reader under every header, index and config file).
///
/// Invariants: a rejection names an offset inside the input; an accepted value serializes to
/// compact text that is never longer than the input, parses back to an equal value and
/// serializes to the same bytes again (a fixed point); every number that reads as a non-negative
/// integer prints back as its own text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzInput(data, size) { bytes in
        let value: JSONValue
        do throws(JSONError) {
            value = try JSONValue.parse(bytes)
        } catch {
            require((0...bytes.count).contains(error.offset), "error offset \(error.offset) outside \(bytes.count) bytes")
            return
        }
        let text = Array(value.serialized.utf8)
        require(text.count <= bytes.count, "serialized form (\(text.count) bytes) longer than the input (\(bytes.count))")
        let again: JSONValue
        do {
            again = try JSONValue.parse(text)
        } catch {
            require(false, "serialized form rejected: \(error)")
            return
        }
        require(again == value, "serialized form parses to a different value")
        require(Array(again.serialized.utf8) == text, "serialization is not a fixed point")
        checkNumbers(value)
    }
}

/// Every integer that `nonNegativeInteger` accepts is written exactly as Swift prints it.
func checkNumbers(_ value: JSONValue) {
    switch value {
    case let .object(members): members.forEach { checkNumbers($0.value) }
    case let .array(items): items.forEach(checkNumbers)
    case let .number(text):
        if let integer = value.nonNegativeInteger { require(String(integer) == text, "integer \(text) reads as \(integer)") }
        _ = value.double
    default: break
    }
}
