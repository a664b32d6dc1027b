extension IPLD {
    /// A list's elements, or a map's values in DAG-CBOR key order; nil for anything else.
    ///
    /// The order is fixed so that `["==", ".m[]", […]]` means the same on every run and in every
    /// implementation that walks the canonical encoding.
    var policyValues: [IPLD]? {
        switch self {
        case .list(let elements): elements
        case .map(let fields): fields.sorted { Self.canonicalKeyOrder($0.key, $1.key) }.map(\.value)
        default: nil
        }
    }

    /// DAG-CBOR's map key order: shorter keys first, then bytewise.
    static func canonicalKeyOrder(_ lhs: String, _ rhs: String) -> Bool {
        let lhs = lhs.utf8
        let rhs = rhs.utf8
        if lhs.count != rhs.count { return lhs.count < rhs.count }
        return lhs.lexicographicallyPrecedes(rhs)
    }

    /// The policy language's deep equality: numbers by value whatever their kind (`1 == 1.0`, as the
    /// spec's comparisons say), strings and keys as UTF-8 bytes (no Unicode normalisation: arguments are
    /// taken verbatim), everything else by kind and content.
    ///
    /// It recurses only as deep as both values nest, which parsing bounds for the policy's side.
    func policyEquals(_ other: IPLD) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let lhs), .bool(let rhs)): return lhs == rhs
        case (.integer, .integer), (.integer, .float), (.float, .integer), (.float, .float):
            return Self.numericOrder(self, other) == 0
        case (.string(let lhs), .string(let rhs)): return lhs.utf8.elementsEqual(rhs.utf8)
        case (.bytes(let lhs), .bytes(let rhs)): return lhs == rhs
        case (.link(let lhs), .link(let rhs)): return lhs == rhs
        case (.list(let lhs), .list(let rhs)):
            return lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { $0.policyEquals($1) }
        case (.map(let lhs), .map(let rhs)):
            guard lhs.count == rhs.count else { return false }
            for (key, value) in lhs {
                guard let found = rhs.index(forKey: key), rhs[found].key.utf8.elementsEqual(key.utf8),
                    rhs[found].value.policyEquals(value)
                else { return false }
            }
            return true
        default:
            return false
        }
    }

    /// How two numbers order (-1, 0 or 1), exactly even between an `Int64` and a `Double` that have no
    /// common representation; nil when either is not a number (or is NaN).
    static func numericOrder(_ lhs: IPLD, _ rhs: IPLD) -> Int? {
        switch (lhs, rhs) {
        case (.integer(let lhs), .integer(let rhs)): return lhs == rhs ? 0 : lhs < rhs ? -1 : 1
        case (.float(let lhs), .float(let rhs)):
            guard !lhs.isNaN, !rhs.isNaN else { return nil }
            return lhs == rhs ? 0 : lhs < rhs ? -1 : 1
        case (.integer(let lhs), .float(let rhs)): return order(lhs, rhs)
        case (.float(let lhs), .integer(let rhs)): return order(rhs, lhs).map { -$0 }
        default: return nil
        }
    }

    /// Orders an integer against a float without rounding either: converting the integer to `Double`
    /// would make 2^53 + 1 equal 2^53.
    private static func order(_ integer: Int64, _ float: Double) -> Int? {
        guard !float.isNaN else { return nil }
        // 2^63 is exactly representable; every Int64 is below it and at or above its negation.
        if float >= 9_223_372_036_854_775_808.0 { return -1 }
        if float < -9_223_372_036_854_775_808.0 { return 1 }
        let truncated = float.rounded(.towardZero)
        let whole = Int64(truncated)
        if integer != whole { return integer < whole ? -1 : 1 }
        if float == truncated { return 0 }
        return float > truncated ? -1 : 1
    }
}
