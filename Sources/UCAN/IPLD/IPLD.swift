/// A value of the IPLD data model, as UCAN 1.0 payloads, arguments and policies hold them.
///
/// DAG-CBOR (``DAGCBOR``) is its canonical binary form and DAG-JSON (``DAGJSON``) its text form. Integers are
/// 64-bit signed: DAG-CBOR can also write integers down to -2^64 and up to 2^64-1, but a value outside
/// `Int64` is refused when decoding rather than rounded (UCAN's own integers, times, are 53-bit).
public indirect enum IPLD: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A 64-bit float; never NaN or an infinity (DAG-CBOR and DAG-JSON cannot carry them).
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([IPLD])
    /// Keys are strings (the only keys DAG-CBOR allows); their order carries no meaning.
    case map([String: IPLD])
    /// A CID (DAG-CBOR tag 42).
    case link(CID)
}

extension IPLD {
    /// The map's fields, or nil when it is not a map.
    public var mapValue: [String: IPLD]? {
        if case .map(let fields) = self { return fields }
        return nil
    }

    /// The list's elements, or nil when it is not a list.
    public var listValue: [IPLD]? {
        if case .list(let elements) = self { return elements }
        return nil
    }

    /// The string, or nil when it is not a string.
    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The bytes, or nil when they are not bytes.
    public var bytesValue: [UInt8]? {
        if case .bytes(let bytes) = self { return bytes }
        return nil
    }

    /// The integer, or nil when it is not an integer.
    public var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The field `key` of a map; nil for a missing field or a value that is not a map.
    public subscript(key: String) -> IPLD? { mapValue?[key] }

    /// The kind's name as the IPLD data model calls it, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .float: "float"
        case .string: "string"
        case .bytes: "bytes"
        case .list: "list"
        case .map: "map"
        case .link: "link"
        }
    }
}

extension IPLD: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .float(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: IPLD...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, IPLD)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
