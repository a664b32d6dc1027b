/// A JSON value, as token payloads, facts and caveats carry it.
///
/// Numbers keep the distinction the wire makes: a lexeme without fraction or exponent that fits `Int64`
/// stays exact as `.integer`, anything else becomes `.double`. Equality and hashing treat an integer and
/// a double of exactly the same value as equal, so `1` and `1.0` are interchangeable as the JSON data model
/// says they are.
public enum JSONValue: Sendable {
    /// The literal `null`.
    case null
    /// The literals `true` and `false`.
    case bool(Bool)
    /// A number lexeme with no fraction or exponent that fits `Int64`.
    case integer(Int64)
    /// Any other finite number.
    case double(Double)
    /// A string, already unescaped.
    case string(String)
    /// An ordered list of values.
    case array([JSONValue])
    /// An object; member order carries no meaning and the serializer sorts keys.
    case object([String: JSONValue])
}

/// A JSON object, the shape of token headers, payloads, facts and capabilities.
public typealias JSONObject = [String: JSONValue]

extension JSONValue: Equatable {
    /// Compares structurally, with `.integer(n)` equal to `.double(d)` exactly when `d` is the integer `n`.
    ///
    /// The comparison is exact, not via `Double(n)` rounding: otherwise `2^53 + 1` would equal `2^53.0`
    /// which equals `2^53`, and equality would stop being transitive.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.integer(let a), .integer(let b)):
            return a == b
        case (.double(let a), .double(let b)):
            // NaN never comes out of the parser; treating it as equal to itself keeps `==` reflexive.
            return a == b || (a.isNaN && b.isNaN)
        case (.integer(let a), .double(let b)), (.double(let b), .integer(let a)):
            return JSONValue.exactInteger(b) == a
        case (.string(let a), .string(let b)):
            return a == b
        case (.array(let a), .array(let b)):
            return a == b
        case (.object(let a), .object(let b)):
            return a == b
        default:
            return false
        }
    }
}

extension JSONValue: Hashable {
    /// Hashes consistently with `==`: a double holding an integral `Int64` value hashes as that integer.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0 as UInt8)
        case .bool(let value):
            hasher.combine(1 as UInt8)
            hasher.combine(value)
        case .integer(let value):
            hasher.combine(2 as UInt8)
            hasher.combine(value)
        case .double(let value):
            if let integer = JSONValue.exactInteger(value) {
                hasher.combine(2 as UInt8)
                hasher.combine(integer)
            } else if value.isNaN {
                hasher.combine(4 as UInt8)
            } else {
                hasher.combine(3 as UInt8)
                hasher.combine(value)
            }
        case .string(let value):
            hasher.combine(5 as UInt8)
            hasher.combine(value)
        case .array(let value):
            hasher.combine(6 as UInt8)
            hasher.combine(value)
        case .object(let value):
            hasher.combine(7 as UInt8)
            hasher.combine(value)
        }
    }
}

extension JSONValue {
    /// `value` as an `Int64` when it is exactly an integer in range, else nil.
    ///
    /// Spelled out rather than `Int64(exactly:)`, which calls libm's `trunc` and so needs `-lm` at link time.
    static func exactInteger(_ value: Double) -> Int64? {
        // The bounds are -2^63 and 2^63, both exact doubles; NaN fails both comparisons.
        guard value >= -9_223_372_036_854_775_808.0 && value < 9_223_372_036_854_775_808.0 else { return nil }
        let integer = Int64(value)
        return Double(integer) == value ? integer : nil
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The number as an exact `Int64`, also when it was written as a double with an integral value.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value): return JSONValue.exactInteger(value)
        default: return nil
        }
    }

    /// The number as a `Double`, possibly rounded when an integer exceeds 2^53.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Whether this is the literal `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The member named `key`, if this is an object that has it.
    public subscript(key: String) -> JSONValue? {
        if case .object(let value) = self { return value[key] }
        return nil
    }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// Lets `true` and `false` stand for `.bool`, which keeps test tables and fixed payloads readable.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// Lets an integer literal stand for `.integer`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// Lets a floating-point literal stand for `.double`.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// Lets a string literal stand for `.string`.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// Lets an array literal stand for `.array`.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Lets a dictionary literal stand for `.object`; a repeated key keeps the last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject(minimumCapacity: elements.count)
        for (key, value) in elements { object[key] = value }  // a repeated key keeps the last value
        self = .object(object)
    }
}
