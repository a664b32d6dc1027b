/// Deterministic JSON output: the same value always yields the same bytes.
///
/// The form is byte-identical to Python's `json.dumps(v, sort_keys=True, separators=(",", ":"),
/// ensure_ascii=False)` for everything but doubles, so tokens built here and by other implementations
/// of that convention sign the same bytes.
extension JSONValue {
    /// Returns the compact, key-sorted encoding.
    package func serialized() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(into: &output)
        return output
    }

    /// Appends the compact, key-sorted encoding to `output`.
    ///
    /// Doubles use Swift's shortest round-trip form; a non-finite double, which JSON cannot express and
    /// the parser never produces, is written as `null` so the output always stays valid JSON.
    package func write(into output: inout [UInt8]) {
        switch self {
        case .null:
            Self.appendASCII("null", to: &output)
        case .bool(let value):
            Self.appendASCII(value ? "true" : "false", to: &output)
        case .integer(let value):
            Self.writeInteger(value, into: &output)
        case .double(let value):
            if value.isFinite {
                output.append(contentsOf: value.description.utf8)
            } else {
                Self.appendASCII("null", to: &output)
            }
        case .string(let value):
            Self.writeString(value, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in Self.sortedMembers(members) {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                value.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `text` as a quoted JSON string, escaping only `"`, `\` and control characters.
    ///
    /// `/` and non-ASCII stay as they are; the short escapes are used where JSON has them and `\u00xx`
    /// with lowercase hex elsewhere, as Python's encoder does.
    package static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            writeEscaped(bytes, into: &output)
        }
        if done == nil {
            Array(text.utf8).withUnsafeBufferPointer { writeEscaped($0, into: &output) }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// Appends the UTF-8 `bytes` with escapes, copying unescaped runs in bulk.
    private static func writeEscaped(_ bytes: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        guard let base = bytes.baseAddress else { return }
        var runStart = 0
        var index = 0
        while true {
            index = skipUnescaped(base, from: index, count: bytes.count)
            guard index < bytes.count else { break }
            let char = bytes[index]
            index += 1
            if char >= 0x20 && char != UInt8(ascii: "\"") && char != UInt8(ascii: "\\") { continue }
            let escaped = index - 1
            if runStart < escaped {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<escaped]))
            }
            runStart = index
            output.append(UInt8(ascii: "\\"))
            switch char {
            case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
            case 0x08: output.append(UInt8(ascii: "b"))
            case 0x0C: output.append(UInt8(ascii: "f"))
            case 0x0A: output.append(UInt8(ascii: "n"))
            case 0x0D: output.append(UInt8(ascii: "r"))
            case 0x09: output.append(UInt8(ascii: "t"))
            default:
                appendASCII("u00", to: &output)
                output.append(hexDigit(char >> 4))
                output.append(hexDigit(char & 0x0F))
            }
        }
        if runStart < bytes.count {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
    }

    /// Returns the first index from `index` on whose 8-byte word may need escaping, or one near `count`.
    ///
    /// A word-at-a-time test for `"`, `\` and bytes below 0x20; it may stop early on a false positive,
    /// never late, and the caller checks the bytes one by one from there.
    @inline(__always)
    private static func skipUnescaped(_ base: UnsafePointer<UInt8>, from index: Int, count: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var index = index
        while index + 8 <= count {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let special = (quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word
            if special & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
        return index
    }

    /// Lowercase hex digit for a nibble.
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Appends the decimal form of `value` without going through `String`.
    private static func writeInteger(_ value: Int64, into output: inout [UInt8]) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = output.count
        repeat {
            output.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        output[start...].reverse()
    }

    private static func appendASCII(_ text: StaticString, to output: inout [UInt8]) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }

    /// The members ordered by the UTF-8 bytes of their keys, which is code point order.
    ///
    /// Swift's `String <` orders by Unicode canonical form instead and would disagree with other
    /// implementations on non-ASCII keys.
    private static func sortedMembers(_ members: JSONObject) -> [(key: String, value: JSONValue)] {
        var sorted = Array(members)
        if sorted.count > 1 {
            sorted.sort { utf8Precedes($0.key, $1.key) }
        }
        return sorted
    }

    /// Whether `lhs` sorts before `rhs` by UTF-8 bytes.
    private static func utf8Precedes(_ lhs: String, _ rhs: String) -> Bool {
        let fast = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in
                let common = min(left.count, right.count)
                for index in 0..<common where left[index] != right[index] {
                    return left[index] < right[index]
                }
                return left.count < right.count
            }
        }
        if let fast, let result = fast { return result }
        return lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
