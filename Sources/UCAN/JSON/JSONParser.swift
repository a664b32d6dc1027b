/// Why a document was rejected, and where.
///
/// The reason is a fixed phrase and never quotes the input, because tokens may carry secrets.
package struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset into the input at which the problem was detected.
    package let offset: Int
    /// A short fixed phrase such as "duplicate key", safe to log.
    package let reason: String

    /// Creates an error at `offset`.
    package init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// A log-safe sentence with the offset and the reason.
    package var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser working directly on bytes.
///
/// Strict because two parties must agree on what a signed payload means: anything another parser might
/// read differently (duplicate keys, lone surrogates, invalid UTF-8, leading zeros, trailing garbage) is
/// refused rather than guessed at.
package enum JSONParser {
    /// Parses exactly one JSON document, refusing containers nested deeper than `maxDepth`.
    ///
    /// The parser recurses once per nesting level, so `maxDepth` also bounds its stack use; keep it modest.
    package static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 32) throws(JSONError) -> JSONValue {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONError(offset: 0, reason: "unexpected end")
        }
        var cursor = Cursor(base: base, end: bytes.count, maxDepth: maxDepth)
        let value = try cursor.parseValue(depth: 0)
        cursor.skipWhitespace()
        guard cursor.position == cursor.end else { throw cursor.error("trailing data") }
        return value
    }

    /// Parses a byte array.
    package static func parse(_ bytes: [UInt8], maxDepth: Int = 32) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in try parse(buffer, maxDepth: maxDepth) }
        }
        return try result.get()
    }

    /// Parses any byte collection, copying it only when it is not contiguous.
    package static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 32) throws(JSONError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONError) in try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth) }
        }
        if let result { return try result.get() }
        return try parse(Array(bytes), maxDepth: maxDepth)
    }

    /// Parses the UTF-8 encoding of `text`.
    package static func parse(_ text: String, maxDepth: Int = 32) throws(JSONError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            Result { () throws(JSONError) in try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth) }
        }
        return try result.get()
    }
}

extension JSONParser {
    /// 10^0 through 10^22: the powers of ten a double holds exactly, as Clinger's fast path needs.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// An object member waiting for its object to close, with the key's offset for error reports.
    private struct Member {
        var key: String
        var value: JSONValue
        var offset: Int
    }

    /// Reading state over one input buffer.
    ///
    /// Members and elements of open containers wait on shared stacks until their container closes, so each
    /// array and dictionary is allocated once at its final size instead of growing step by step.
    private struct Cursor {
        let base: UnsafeRawPointer
        let end: Int
        let maxDepth: Int
        var position = 0
        var elements: [JSONValue] = []
        var members: [Member] = []
        /// Reused buffer for strings that contain escapes.
        var scratch: [UInt8] = []

        init(base: UnsafeRawPointer, end: Int, maxDepth: Int) {
            self.base = base
            self.end = end
            self.maxDepth = maxDepth
        }

        /// The byte at `index`; callers check `index < end` first.
        @inline(__always)
        func byte(_ index: Int) -> UInt8 {
            base.load(fromByteOffset: index, as: UInt8.self)
        }

        func error(_ reason: String, at offset: Int? = nil) -> JSONError {
            JSONError(offset: offset ?? position, reason: reason)
        }

        @inline(__always)
        mutating func skipWhitespace() {
            while position < end {
                switch byte(position) {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        /// Parses a value inside `depth` open containers.
        mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
            skipWhitespace()
            guard position < end else { throw error("unexpected end") }
            switch byte(position) {
            case UInt8(ascii: "{"):
                return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["):
                return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""):
                return .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return try parseNumber()
            default:
                throw error("unexpected character")
            }
        }

        mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
            let count = literal.utf8CodeUnitCount
            let start = literal.utf8Start
            for index in 0..<count {
                guard position + index < end else { throw error("unexpected end", at: position + index) }
                guard byte(position + index) == start[index] else {
                    throw error("invalid literal", at: position + index)
                }
            }
            position += count
        }

        mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
            guard depth <= maxDepth else { throw error("nesting too deep") }
            position += 1
            skipWhitespace()
            if position < end && byte(position) == UInt8(ascii: "]") {
                position += 1
                return .array([])
            }
            if elements.capacity == 0 { elements.reserveCapacity(16) }
            let first = elements.count
            while true {
                let element = try parseValue(depth: depth)
                elements.append(element)
                skipWhitespace()
                guard position < end else { throw error("unexpected end") }
                let next = byte(position)
                position += 1
                if next == UInt8(ascii: ",") { continue }
                if next == UInt8(ascii: "]") { break }
                throw error("expected ',' or ']'", at: position - 1)
            }
            return .array(takeElements(from: first))
        }

        mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
            guard depth <= maxDepth else { throw error("nesting too deep") }
            position += 1
            skipWhitespace()
            if position < end && byte(position) == UInt8(ascii: "}") {
                position += 1
                return .object([:])
            }
            // One allocation up front instead of growing through 1, 2, 4, 8 for a typical payload.
            if members.capacity == 0 { members.reserveCapacity(16) }
            let first = members.count
            while true {
                skipWhitespace()
                guard position < end else { throw error("unexpected end") }
                guard byte(position) == UInt8(ascii: "\"") else { throw error("expected string key") }
                let keyOffset = position
                let key = try parseString()
                skipWhitespace()
                guard position < end else { throw error("unexpected end") }
                guard byte(position) == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                let value = try parseValue(depth: depth)
                members.append(Member(key: key, value: value, offset: keyOffset))
                skipWhitespace()
                guard position < end else { throw error("unexpected end") }
                let next = byte(position)
                position += 1
                if next == UInt8(ascii: ",") { continue }
                if next == UInt8(ascii: "}") { break }
                throw error("expected ',' or '}'", at: position - 1)
            }
            return .object(try takeMembers(from: first))
        }

        /// Takes `elements[first...]` off the stack as an array of exactly their count.
        mutating func takeElements(from first: Int) -> [JSONValue] {
            let array = Array(elements[first...])
            elements.removeSubrange(first...)
            return array
        }

        /// Takes `members[first...]` off the stack as a dictionary, refusing a key that occurs twice.
        mutating func takeMembers(from first: Int) throws(JSONError) -> JSONObject {
            var object = JSONObject(minimumCapacity: members.count - first)
            for member in members[first...] {
                // Swift compares strings by canonical equivalence, so keys that differ only in Unicode
                // normalization count as duplicates too: they could not both be kept in a dictionary.
                guard object.updateValue(member.value, forKey: member.key) == nil else {
                    throw error("duplicate key", at: member.offset)
                }
            }
            members.removeSubrange(first...)
            return object
        }

        // MARK: Strings

        /// Parses a string starting at its opening quote.
        mutating func parseString() throws(JSONError) -> String {
            position += 1
            let start = position
            // Fast path: no escapes, so the string is a slice of the input.
            while true {
                skipPlainASCII()
                guard position < end else { break }
                let char = byte(position)
                if char == UInt8(ascii: "\"") {
                    let text = makeString(from: start, to: position)
                    position += 1
                    return text
                }
                if char == UInt8(ascii: "\\") { break }
                if char < 0x20 { throw error("control character in string") }
                if char < 0x80 {
                    position += 1
                } else {
                    try skipUTF8Sequence(lead: char)
                }
            }
            guard position < end else { throw error("unexpected end") }
            return try parseEscapedString(start: start)
        }

        /// Skips eight bytes at a time while none is a quote, backslash, control character or non-ASCII.
        ///
        /// Strings are most of a token's bytes, so testing a word per step instead of a byte pays off.
        /// A flagged word may be a false positive; the caller's byte loop sorts that out.
        @inline(__always)
        mutating func skipPlainASCII() {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            while position + 8 <= end {
                let word = base.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                let special =
                    (quote &- ones) & ~quote | (backslash &- ones) & ~backslash
                    | (word &- ones &* 0x20) & ~word | word
                if special & highBits != 0 { return }
                position += 8
            }
        }

        func makeString(from start: Int, to stop: Int) -> String {
            let bytes = UnsafeBufferPointer(
                start: (base + start).assumingMemoryBound(to: UInt8.self), count: stop - start)
            return String(decoding: bytes, as: UTF8.self)
        }

        /// Continues a string at its first backslash, copying the decoded bytes into `scratch`.
        mutating func parseEscapedString(start: Int) throws(JSONError) -> String {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: position - start))
            while position < end {
                let char = byte(position)
                if char == UInt8(ascii: "\"") {
                    position += 1
                    return String(decoding: scratch, as: UTF8.self)
                }
                if char == UInt8(ascii: "\\") {
                    try parseEscape()
                } else if char < 0x20 {
                    throw error("control character in string")
                } else if char < 0x80 {
                    scratch.append(char)
                    position += 1
                } else {
                    let lead = position
                    try skipUTF8Sequence(lead: char)
                    scratch.append(contentsOf: UnsafeRawBufferPointer(start: base + lead, count: position - lead))
                }
            }
            throw error("unexpected end")
        }

        /// Decodes one escape at `position` (a backslash) into `scratch`.
        mutating func parseEscape() throws(JSONError) {
            guard position + 1 < end else { throw error("unexpected end", at: end) }
            let decoded: UInt8
            switch byte(position + 1) {
            case UInt8(ascii: "\""): decoded = 0x22
            case UInt8(ascii: "\\"): decoded = 0x5C
            case UInt8(ascii: "/"): decoded = 0x2F
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            case UInt8(ascii: "u"):
                try parseUnicodeEscape()
                return
            default:
                throw error("invalid escape")
            }
            scratch.append(decoded)
            position += 2
        }

        /// Decodes `\uXXXX`, or a `\uXXXX\uXXXX` surrogate pair, into UTF-8 in `scratch`.
        mutating func parseUnicodeEscape() throws(JSONError) {
            let escapeStart = position
            let unit = try hexQuad(at: position + 2)
            position += 6
            var scalar = unit
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard position < end else { throw error("unexpected end") }
                guard byte(position) == UInt8(ascii: "\\") else { throw error("lone surrogate", at: escapeStart) }
                guard position + 1 < end else { throw error("unexpected end", at: end) }
                guard byte(position + 1) == UInt8(ascii: "u") else { throw error("lone surrogate", at: escapeStart) }
                let low = try hexQuad(at: position + 2)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw error("lone surrogate", at: escapeStart) }
                position += 6
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw error("lone surrogate", at: escapeStart)
            }
            appendUTF8(scalar)
        }

        /// Reads four hex digits at `offset`.
        func hexQuad(at offset: Int) throws(JSONError) -> UInt32 {
            var value: UInt32 = 0
            for index in offset..<offset + 4 {
                guard index < end else { throw error("unexpected end", at: end) }
                let char = byte(index)
                let digit: UInt8
                switch char {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = char &- UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = char &- UInt8(ascii: "a") &+ 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = char &- UInt8(ascii: "A") &+ 10
                default: throw error("invalid escape", at: index)
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }

        mutating func appendUTF8(_ scalar: UInt32) {
            switch scalar {
            case 0..<0x80:
                scratch.append(UInt8(truncatingIfNeeded: scalar))
            case 0x80..<0x800:
                scratch.append(UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6))
                scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
            case 0x800..<0x10000:
                scratch.append(UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12))
                scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
            default:
                scratch.append(UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18))
                scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F))
                scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F))
                scratch.append(UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F))
            }
        }

        /// Steps over one well-formed multi-byte UTF-8 sequence whose lead byte is at `position`.
        ///
        /// The ranges are those of Unicode's table of well-formed sequences, which excludes overlong forms,
        /// encoded surrogates and anything above U+10FFFF.
        mutating func skipUTF8Sequence(lead: UInt8) throws(JSONError) {
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: throw error("invalid UTF-8")
            }
            for index in 1..<length {
                guard position + index < end else { throw error("unexpected end", at: end) }
                let char = byte(position + index)
                guard char >= low && char <= high else { throw error("invalid UTF-8") }
                low = 0x80
                high = 0xBF
            }
            position += length
        }

        // MARK: Numbers

        /// Parses a number, keeping it exact as `.integer` when it is written as an `Int64`.
        mutating func parseNumber() throws(JSONError) -> JSONValue {
            let start = position
            let negative = byte(position) == UInt8(ascii: "-")
            if negative { position += 1 }
            guard position < end else { throw error("unexpected end") }

            // The value is significand * 10^exponent. Digits that do not fit the significand exactly set
            // `truncated`, which sends the number to the correctly rounding slow path.
            var significand: UInt64 = 0
            var digits = 0
            var exponent = 0
            let first = byte(position)
            if first == UInt8(ascii: "0") {
                position += 1
                if position < end && isDigit(byte(position)) { throw error("leading zero") }
            } else if isDigit(first) {
                while position < end, isDigit(byte(position)) {
                    if digits < 19 {
                        significand = significand &* 10 &+ UInt64(byte(position) &- UInt8(ascii: "0"))
                        digits += 1
                    } else {
                        digits += 1
                        exponent += 1
                    }
                    position += 1
                }
            } else {
                throw error("invalid number")
            }
            var truncated = digits > 19
            var fractionOrExponent = false
            if position < end && byte(position) == UInt8(ascii: ".") {
                fractionOrExponent = true
                position += 1
                guard position < end else { throw error("unexpected end") }
                guard isDigit(byte(position)) else { throw error("invalid number") }
                while position < end, isDigit(byte(position)) {
                    if significand < 100_000_000_000_000_000 {
                        significand = significand * 10 + UInt64(byte(position) &- UInt8(ascii: "0"))
                        exponent -= 1
                    } else if byte(position) != UInt8(ascii: "0") {
                        truncated = true
                    }
                    position += 1
                }
            }
            if position < end && (byte(position) == UInt8(ascii: "e") || byte(position) == UInt8(ascii: "E")) {
                fractionOrExponent = true
                position += 1
                guard position < end else { throw error("unexpected end") }
                var exponentNegative = false
                if byte(position) == UInt8(ascii: "+") || byte(position) == UInt8(ascii: "-") {
                    exponentNegative = byte(position) == UInt8(ascii: "-")
                    position += 1
                    guard position < end else { throw error("unexpected end") }
                }
                guard isDigit(byte(position)) else { throw error("invalid number") }
                var written = 0
                while position < end, isDigit(byte(position)) {
                    // Saturate: past a million the result is 0 or infinity anyway, and this cannot overflow.
                    if written < 1_000_000 { written = written * 10 + Int(byte(position) &- UInt8(ascii: "0")) }
                    position += 1
                }
                exponent += exponentNegative ? -written : written
            }
            if !fractionOrExponent && !truncated {
                if negative {
                    if significand <= UInt64(Int64.max) + 1 {
                        return .integer(Int64(truncatingIfNeeded: 0 &- significand))
                    }
                } else if significand <= UInt64(Int64.max) {
                    return .integer(Int64(significand))
                }
            }
            // Clinger's fast path: both operands are exact doubles, so one IEEE operation rounds correctly.
            if !truncated && significand <= 1 << 53 && exponent >= -22 && exponent <= 22 {
                var value = Double(significand)
                if exponent < 0 {
                    value /= JSONParser.powersOfTen[-exponent]
                } else {
                    value *= JSONParser.powersOfTen[exponent]
                }
                return .double(negative ? -value : value)
            }
            let lexeme = String(
                decoding: UnsafeRawBufferPointer(start: base + start, count: position - start),
                as: UTF8.self)
            guard let value = Double(lexeme), value.isFinite else { throw error("number out of range", at: start) }
            return .double(value)
        }

        @inline(__always)
        func isDigit(_ char: UInt8) -> Bool {
            char &- UInt8(ascii: "0") < 10
        }
    }
}
