/// The element types of the safetensors format, in the order the reference implementation
/// declares them (its writer sorts tensors by this order, descending, then by name).
public enum DType: String, CaseIterable, Sendable, Comparable {
    case bool = "BOOL", f4 = "F4", f6E2M3 = "F6_E2M3", f6E3M2 = "F6_E3M2", u8 = "U8", i8 = "I8"
    case f8E5M2 = "F8_E5M2", f8E4M3 = "F8_E4M3", f8E8M0 = "F8_E8M0", i16 = "I16", u16 = "U16"
    case f16 = "F16", bf16 = "BF16", i32 = "I32", u32 = "U32", f32 = "F32", c64 = "C64", f64 = "F64"
    case i64 = "I64", u64 = "U64"

    /// Bits per element (sub-byte types pack several elements per byte).
    public var bits: Int {
        switch self {
        case .f4: return 4
        case .f6E2M3, .f6E3M2: return 6
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0: return 8
        case .i16, .u16, .f16, .bf16: return 16
        case .i32, .u32, .f32: return 32
        case .c64, .f64, .i64, .u64: return 64
        }
    }

    /// F64, F32, F16 and BF16: the types IsoMerge converts to and from `Float`/`Double` exactly.
    public var isConvertibleFloat: Bool { [.f64, .f32, .f16, .bf16].contains(self) }

    /// Integer and boolean types, which merges carry through byte for byte.
    public var isIntegerOrBool: Bool { [.bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64].contains(self) }

    public static func < (lhs: DType, rhs: DType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Bytes taken by `count` elements, or nil when the count overflows or (for sub-byte types)
    /// does not fill whole bytes.
    public func byteCount(elements count: Int) -> Int? {
        let (totalBits, overflow) = count.multipliedReportingOverflow(by: bits)
        guard !overflow, totalBits % 8 == 0 else { return nil }
        return totalBits / 8
    }
}
