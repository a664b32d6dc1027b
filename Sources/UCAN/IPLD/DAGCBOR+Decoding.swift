extension DAGCBOR {
    /// Decodes one DAG-CBOR value, accepting only the canonical form.
    ///
    /// Refused as `malformed`, with the byte offset of the offending item: integers, lengths or tags not in their
    /// shortest form; map keys that are not strings, out of order or repeated; indefinite lengths and the break
    /// code; any tag but 42, and a tag 42 that is not a byte string of 0x00 and a CID; undefined and simple values
    /// other than false, true and null; half- and single-precision floats, NaN and the infinities; invalid UTF-8;
    /// truncated input and bytes after the value. Integers outside `Int64` are refused too, which DAG-CBOR
    /// itself allows, and so are two map keys that differ in bytes but are canonically equivalent Unicode (such
    /// as a precomposed and a decomposed "é"), which an ``IPLD`` map, keyed by Swift strings, cannot hold apart.
    /// - Parameters:
    ///   - bytes: Exactly one encoded value.
    ///   - limits: Bounds on size, nesting and item counts.
    /// - Returns: The value.
    /// - Throws: ``UCANError``: `malformed` naming the rule broken and where; `too_large` over `limits`.
    public static func decode(_ bytes: [UInt8], limits: Limits = .default) throws(UCANError) -> IPLD {
        guard bytes.count <= limits.maxBytes else {
            throw UCANError(.tooLarge, "dag-cbor: \(bytes.count) bytes is over the limit of \(limits.maxBytes)")
        }
        guard !bytes.isEmpty else { throw UCANError(.malformed, "dag-cbor at byte 0: unexpected end of input") }
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(UCANError) in
                // A non-empty array always has a base address.
                var reader = Reader(base: buffer.baseAddress!, count: buffer.count, limits: limits)
                let value = try reader.value(depth: 0)
                guard reader.position == reader.count else {
                    throw reader.malformed("trailing bytes after the value", at: reader.position)
                }
                return value
            }
        }
        return try result.get()
    }
}

extension DAGCBOR {
    /// A cursor over the input that decodes one item at a time, checking every rule as it goes.
    ///
    /// Lengths are compared with the bytes left before anything is allocated, and nesting is counted before
    /// each recursion, so a hostile length or depth fails fast instead of exhausting memory or the stack.
    private struct Reader {
        let base: UnsafePointer<UInt8>
        let count: Int
        let limits: Limits
        var position = 0

        init(base: UnsafePointer<UInt8>, count: Int, limits: Limits) {
            self.base = base
            self.count = count
            self.limits = limits
        }

        func malformed(_ rule: String, at offset: Int) -> UCANError {
            UCANError(.malformed, "dag-cbor at byte \(offset): \(rule)")
        }

        func tooLarge(_ rule: String, at offset: Int) -> UCANError {
            UCANError(.tooLarge, "dag-cbor at byte \(offset): \(rule)")
        }

        var remaining: Int { count - position }

        /// Reads `width` bytes as a big-endian integer, after checking they are there.
        mutating func readBigEndian(_ width: Int) throws(UCANError) -> UInt64 {
            guard remaining >= width else { throw malformed("unexpected end of input", at: count) }
            var value: UInt64 = 0
            for index in 0..<width { value = value << 8 | UInt64(base[position + index]) }
            position += width
            return value
        }

        /// Reads the argument that follows an initial byte of major type 0 to 6, refusing non-shortest forms,
        /// the reserved additional-information values and indefinite lengths.
        mutating func argument(_ info: UInt8, _ major: Major, at start: Int) throws(UCANError) -> UInt64 {
            let value: UInt64
            let minimum: UInt64
            switch info {
            case 0..<24: return UInt64(info)
            case 24: (value, minimum) = (try readBigEndian(1), 24)
            case 25: (value, minimum) = (try readBigEndian(2), 0x100)
            case 26: (value, minimum) = (try readBigEndian(4), 0x1_0000)
            case 27: (value, minimum) = (try readBigEndian(8), 0x1_0000_0000)
            case 31 where major.rawValue >= Major.bytes.rawValue && major.rawValue <= Major.map.rawValue:
                throw malformed(
                    "indefinite-length \(Self.name(of: major)) (only definite lengths are allowed)", at: start)
            default: throw malformed("reserved additional information \(info)", at: start)
            }
            guard value >= minimum else {
                let what =
                    switch major {
                    case .unsigned, .negative: "integer"
                    case .tag: "tag number"
                    default: "length"
                    }
                throw malformed("\(what) not in its shortest form", at: start)
            }
            return value
        }

        static func name(of major: Major) -> String {
            switch major {
            case .bytes: "byte string"
            case .text: "text string"
            case .list: "list"
            default: "map"
            }
        }

        /// Decodes the item at `position` inside `depth` open lists and maps.
        mutating func value(depth: Int) throws(UCANError) -> IPLD {
            let start = position
            guard position < count else { throw malformed("unexpected end of input", at: start) }
            let initial = base[position]
            position += 1
            let info = initial & 0x1F
            // Safe: three bits always name one of the eight major types.
            let major = Major(rawValue: initial >> 5)!
            if major == .simple { return try simple(info, at: start) }
            let argument = try argument(info, major, at: start)
            switch major {
            case .unsigned:
                guard argument <= UInt64(Int64.max) else { throw malformed("integer outside Int64", at: start) }
                return .integer(Int64(argument))
            case .negative:
                guard argument <= UInt64(Int64.max) else { throw malformed("integer outside Int64", at: start) }
                return .integer(-1 - Int64(argument))
            case .bytes:
                return .bytes(try bytes(argument, at: start))
            case .text:
                return .string(try text(argument, at: start, what: "text string"))
            case .list:
                return try list(argument, depth: depth, at: start)
            case .map:
                return try map(argument, depth: depth, at: start)
            case .tag:
                return .link(try link(tag: argument, at: start))
            case .simple:
                preconditionFailure("handled above")
            }
        }

        /// Decodes major type 7: only false, true, null and finite 64-bit floats are IPLD values.
        mutating func simple(_ info: UInt8, at start: Int) throws(UCANError) -> IPLD {
            switch info {
            case 20: return .bool(false)
            case 21: return .bool(true)
            case 22: return .null
            case 23: throw malformed("undefined is not supported", at: start)
            case 24:
                let value = try readBigEndian(1)
                throw malformed("simple value \(value) is not supported", at: start)
            case 25: throw malformed("half-precision float (floats must be 64-bit)", at: start)
            case 26: throw malformed("single-precision float (floats must be 64-bit)", at: start)
            case 27:
                let number = Double(bitPattern: try readBigEndian(8))
                guard !number.isNaN else { throw malformed("NaN is not supported", at: start) }
                guard number.isFinite else { throw malformed("infinity is not supported", at: start) }
                return .float(number)
            case 31: throw malformed("unexpected break code (only definite lengths are allowed)", at: start)
            case 28...30: throw malformed("reserved additional information \(info)", at: start)
            default: throw malformed("simple value \(info) is not supported", at: start)
            }
        }

        /// Checks that `length` bytes remain, comparing as `UInt64` so a length near 2^64 cannot overflow.
        func requireRemaining(_ length: UInt64, for what: String, at start: Int) throws(UCANError) -> Int {
            guard length <= UInt64(remaining) else {
                throw malformed("\(what) of \(length) bytes runs past the end of the input", at: start)
            }
            return Int(length)
        }

        mutating func bytes(_ length: UInt64, at start: Int) throws(UCANError) -> [UInt8] {
            let length = try requireRemaining(length, for: "byte string", at: start)
            let bytes = Array(UnsafeBufferPointer(start: base + position, count: length))
            position += length
            return bytes
        }

        mutating func text(_ length: UInt64, at start: Int, what: String) throws(UCANError) -> String {
            let length = try requireRemaining(length, for: what, at: start)
            let utf8 = UnsafeBufferPointer(start: base + position, count: length)
            guard DAGCBOR.isValidUTF8(utf8) else { throw malformed("invalid UTF-8 in \(what)", at: start) }
            position += length
            // Already validated, so nothing is repaired; this initializer is the stdlib's specialised fast path,
            // where `String(validating:as:)` goes through generic code that showed in profiles of envelope decoding.
            return String(decoding: utf8, as: UTF8.self)
        }

        /// Checks a list or map's claimed size against the input left (each element takes at least
        /// `minimumItemBytes`), the item limit and the depth limit, before reserving anything or recursing.
        func checkContainer(
            _ items: UInt64, minimumItemBytes: UInt64, what: String, depth: Int, at start: Int
        ) throws(UCANError) -> Int {
            guard items <= UInt64(remaining) / minimumItemBytes else {
                throw malformed("\(what) of \(items) items runs past the end of the input", at: start)
            }
            guard items <= UInt64(limits.maxItems) else {
                throw tooLarge("\(what) of \(items) items is over the limit of \(limits.maxItems)", at: start)
            }
            guard depth < limits.maxDepth else {
                throw tooLarge("nested deeper than \(limits.maxDepth) lists and maps", at: start)
            }
            return Int(items)
        }

        mutating func list(_ items: UInt64, depth: Int, at start: Int) throws(UCANError) -> IPLD {
            let items = try checkContainer(items, minimumItemBytes: 1, what: "list", depth: depth, at: start)
            var elements: [IPLD] = []
            elements.reserveCapacity(items)
            for _ in 0..<items { elements.append(try value(depth: depth + 1)) }
            return .list(elements)
        }

        mutating func map(_ entries: UInt64, depth: Int, at start: Int) throws(UCANError) -> IPLD {
            let entries = try checkContainer(entries, minimumItemBytes: 2, what: "map", depth: depth, at: start)
            var fields: [String: IPLD] = [:]
            fields.reserveCapacity(entries)
            // The previous key's bytes in the input, for the order check without copying anything.
            var previous: (offset: Int, length: Int)?
            for _ in 0..<entries {
                let keyStart = position
                guard position < count else { throw malformed("unexpected end of input", at: keyStart) }
                let initial = base[position]
                guard initial >> 5 == Major.text.rawValue else {
                    throw malformed("map key is not a text string", at: keyStart)
                }
                position += 1
                let claimed = try argument(initial & 0x1F, .text, at: keyStart)
                let length = try requireRemaining(claimed, for: "map key", at: keyStart)
                if let previous {
                    switch compareKey(previous, (position, length)) {
                    case .orderedAscending: break
                    case .orderedSame: throw malformed("duplicate map key", at: keyStart)
                    case .orderedDescending: throw malformed("map keys out of order", at: keyStart)
                    }
                }
                previous = (position, length)
                let key = try text(claimed, at: keyStart, what: "map key")
                let field = try value(depth: depth + 1)
                guard fields.updateValue(field, forKey: key) == nil else {
                    throw malformed("map keys differ only in Unicode normalization", at: keyStart)
                }
            }
            return .map(fields)
        }

        enum Order { case orderedAscending, orderedSame, orderedDescending }

        /// Compares two keys in the input in DAG-CBOR order: shorter first, then bytewise.
        func compareKey(_ lhs: (offset: Int, length: Int), _ rhs: (offset: Int, length: Int)) -> Order {
            if lhs.length != rhs.length { return lhs.length < rhs.length ? .orderedAscending : .orderedDescending }
            for index in 0..<lhs.length {
                let left = base[lhs.offset + index]
                let right = base[rhs.offset + index]
                if left != right { return left < right ? .orderedAscending : .orderedDescending }
            }
            return .orderedSame
        }

        /// Decodes the content of a tag: only 42, a byte string of the 0x00 identity-multibase prefix and a CID.
        mutating func link(tag: UInt64, at start: Int) throws(UCANError) -> CID {
            guard tag == DAGCBOR.cidTag else { throw malformed("tag \(tag) is not supported (only 42)", at: start) }
            let contentStart = position
            guard position < count else { throw malformed("unexpected end of input", at: contentStart) }
            let initial = base[position]
            guard initial >> 5 == Major.bytes.rawValue else {
                throw malformed("tag 42 does not wrap a byte string", at: contentStart)
            }
            position += 1
            let length = try argument(initial & 0x1F, .bytes, at: contentStart)
            let content = try bytes(length, at: contentStart)
            guard content.first == 0x00 else {
                throw malformed("CID lacks its 0x00 multibase prefix", at: contentStart)
            }
            do {
                return try CID(bytes: Array(content.dropFirst()))
            } catch {
                throw malformed("tag 42 does not hold a CIDv1 with a supported codec and hash", at: contentStart)
            }
        }
    }
}
