/// DAG-CBOR, the canonical binary form of ``IPLD`` values that UCAN 1.0 envelopes are written in.
///
/// The encoder writes the one canonical form: shortest integer and length heads, map keys ordered by length
/// and then bytewise, floats always 64-bit, links as tag 42, definite lengths only. The decoder accepts exactly
/// that form and nothing else, because signatures and CIDs are computed over the bytes as received: an input
/// that would re-encode differently must be refused, never normalised.
public enum DAGCBOR {
    /// Bounds on what ``decode(_:limits:)`` accepts, so hostile input costs bounded time, memory and stack.
    public struct Limits: Sendable, Hashable {
        /// The defaults: 32 KiB of input (a UCAN token's limit), 64 levels of nesting, 8192 items per list or map.
        public static let `default` = Limits()

        /// The largest input accepted, in bytes.
        public var maxBytes: Int
        /// The most lists and maps one value may be nested inside each other; the decoder recurses once per level.
        public var maxDepth: Int
        /// The most elements one list, or entries one map, may claim.
        public var maxItems: Int

        /// Creates limits.
        /// - Parameters:
        ///   - maxBytes: The largest input accepted, in bytes.
        ///   - maxDepth: The deepest nesting of lists and maps accepted.
        ///   - maxItems: The most elements of one list or entries of one map accepted.
        public init(maxBytes: Int = 32 * 1024, maxDepth: Int = 64, maxItems: Int = 8192) {
            self.maxBytes = maxBytes
            self.maxDepth = maxDepth
            self.maxItems = maxItems
        }
    }

    /// Encodes `value` in canonical DAG-CBOR.
    ///
    /// A float that is NaN or infinite, which the IPLD data model excludes and neither decoder produces, is
    /// written as null so that the output is always valid DAG-CBOR. The encoder recurses once per level of
    /// nesting, so values built by hand should be nested no deeper than the decoder's limit.
    /// - Parameter value: The value to encode.
    /// - Returns: The canonical bytes.
    public static func encode(_ value: IPLD) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        encode(value, into: &output)
        return output
    }

    /// Appends the canonical DAG-CBOR encoding of `value` to `output`, such as after an envelope's header.
    /// - Parameters:
    ///   - value: The value to encode.
    ///   - output: The buffer to append to.
    public static func encode(_ value: IPLD, into output: inout [UInt8]) {
        // Move the buffer in and out rather than copy it, so it stays uniquely referenced and never reallocates
        // just because two variables held it.
        var writer = Writer(output: [])
        swap(&writer.output, &output)
        writer.write(value)
        swap(&writer.output, &output)
    }
}

extension DAGCBOR {
    /// CBOR major types (RFC 8949 §3.1), as the high three bits of an item's first byte.
    enum Major: UInt8 {
        case unsigned = 0
        case negative = 1
        case bytes = 2
        case text = 3
        case list = 4
        case map = 5
        case tag = 6
        case simple = 7
    }

    /// The tag DAG-CBOR reserves for CIDs, the only tag it allows.
    static let cidTag: UInt64 = 42

    /// Whether map key `lhs` sorts before `rhs` in DAG-CBOR order: shorter UTF-8 first, then bytewise.
    ///
    /// This is the bytewise order of the encoded keys (head included), which RFC 8949 §4.2.1 asks for; Swift's
    /// `String <` would compare by Unicode canonical form instead and disagree with every other implementation.
    static func keyPrecedes(_ lhs: String, _ rhs: String) -> Bool {
        let left = lhs.utf8
        let right = rhs.utf8
        if left.count != right.count { return left.count < right.count }
        let fast = left.withContiguousStorageIfAvailable { left in
            right.withContiguousStorageIfAvailable { right in
                for index in 0..<left.count where left[index] != right[index] {
                    return left[index] < right[index]
                }
                return false
            }
        }
        if let fast, let result = fast { return result }
        return left.lexicographicallyPrecedes(right)
    }

    /// Appends canonical DAG-CBOR to one growing buffer, so encoding allocates only that buffer and one sorted
    /// entry list per map.
    struct Writer {
        var output: [UInt8]

        mutating func write(_ value: IPLD) {
            switch value {
            case .null:
                output.append(0xF6)
            case .bool(let flag):
                output.append(flag ? 0xF5 : 0xF4)
            case .integer(let number):
                if number >= 0 {
                    writeHead(.unsigned, UInt64(number))
                } else {
                    // -1 - n, computed on the bit pattern so Int64.min does not overflow.
                    writeHead(.negative, ~UInt64(bitPattern: number))
                }
            case .float(let number):
                guard number.isFinite else {
                    output.append(0xF6)
                    return
                }
                output.append(0xFB)
                appendBigEndian(number.bitPattern, count: 8)
            case .string(let text):
                writeText(text)
            case .bytes(let bytes):
                writeHead(.bytes, UInt64(bytes.count))
                output.append(contentsOf: bytes)
            case .list(let elements):
                writeHead(.list, UInt64(elements.count))
                for element in elements { write(element) }
            case .map(let fields):
                writeHead(.map, UInt64(fields.count))
                if fields.count == 1, let (key, field) = fields.first {
                    writeText(key)
                    write(field)
                    return
                }
                for (key, field) in fields.sorted(by: { DAGCBOR.keyPrecedes($0.key, $1.key) }) {
                    writeText(key)
                    write(field)
                }
            case .link(let cid):
                let binary = cid.bytes
                output.append(0xD8)
                output.append(UInt8(DAGCBOR.cidTag))
                // The 0x00 identity-multibase prefix is required in DAG-CBOR links for historical reasons.
                writeHead(.bytes, UInt64(binary.count + 1))
                output.append(0x00)
                output.append(contentsOf: binary)
            }
        }

        mutating func writeText(_ text: String) {
            let done: Void? = text.utf8.withContiguousStorageIfAvailable { utf8 in
                writeHead(.text, UInt64(utf8.count))
                output.append(contentsOf: utf8)
            }
            if done == nil {
                writeHead(.text, UInt64(text.utf8.count))
                output.append(contentsOf: text.utf8)
            }
        }

        /// Writes a head with the shortest argument form, as DAG-CBOR requires of integers, lengths and tags.
        @inline(__always)
        mutating func writeHead(_ major: Major, _ argument: UInt64) {
            let high = major.rawValue << 5
            switch argument {
            case 0..<24:
                output.append(high | UInt8(truncatingIfNeeded: argument))
            case 24..<0x100:
                output.append(high | 24)
                output.append(UInt8(truncatingIfNeeded: argument))
            case 0x100..<0x1_0000:
                output.append(high | 25)
                appendBigEndian(argument, count: 2)
            case 0x1_0000..<0x1_0000_0000:
                output.append(high | 26)
                appendBigEndian(argument, count: 4)
            default:
                output.append(high | 27)
                appendBigEndian(argument, count: 8)
            }
        }

        @inline(__always)
        mutating func appendBigEndian(_ value: UInt64, count: Int) {
            var shift = UInt64(count - 1) * 8
            while true {
                output.append(UInt8(truncatingIfNeeded: value >> shift))
                if shift == 0 { break }
                shift -= 8
            }
        }
    }
}
