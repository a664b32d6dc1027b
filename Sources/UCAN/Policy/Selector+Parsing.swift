extension Selector {
    /// Parses `text`, reporting errors at `field` (the selector's place inside a policy).
    ///
    /// The grammar is deliberately narrow: a leading `.`; dotted names of ASCII letters, digits and `_`
    /// (not starting with a digit, as in jq); brackets holding `""`-quoted JSON strings, canonical
    /// decimal integers, slices or nothing; `?` after any segment. Anything else, `..` included, is
    /// refused rather than guessed at.
    init(parsing text: String, field: String?, limits: PolicyLimits) throws(UCANError) {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.maxSelectorBytes else {
            throw UCANError(.tooLarge, field: field, "a selector is limited to \(limits.maxSelectorBytes) bytes")
        }
        var parser = SelectorParser(bytes: bytes, field: field)
        self.init(description: text, steps: try parser.parse())
    }
}

/// A single pass over a selector's UTF-8 bytes.
private struct SelectorParser {
    let bytes: [UInt8]
    let field: String?
    var position = 0
    var steps: [Selector.Step] = []

    init(bytes: [UInt8], field: String?) {
        self.bytes = bytes
        self.field = field
    }

    mutating func parse() throws(UCANError) -> [Selector.Step] {
        guard bytes.first == UInt8(ascii: ".") else { throw failure("a selector must begin with '.'") }
        position = 1
        // Right after the leading dot: the identity alone, `.?`, a name, or a bracket.
        if position == bytes.count { return steps }
        if bytes[position] == UInt8(ascii: "?") {
            skipOptionals()
        } else {
            try segmentAfterDot()
        }
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "."):
                position += 1
                guard position < bytes.count else { throw failure("a selector may not end with '.' after a segment") }
                try segmentAfterDot()
            case UInt8(ascii: "["):
                try bracket()
            default:
                throw failure("unexpected character at byte \(position)")
            }
        }
        return steps
    }

    /// A name or a bracket after a `.`; another `.` would be the recursive descent the spec forbids.
    private mutating func segmentAfterDot() throws(UCANError) {
        let byte = bytes[position]
        if byte == UInt8(ascii: "[") { return try bracket() }
        if byte == UInt8(ascii: ".") { throw failure("'..' is not allowed in a selector") }
        guard Self.isNameStart(byte) else {
            throw failure(
                "a dotted field name is ASCII letters, digits and '_'; use .[\"…\"] for others (byte \(position))")
        }
        let start = position
        while position < bytes.count, Self.isNameStart(bytes[position]) || Self.isDigit(bytes[position]) {
            position += 1
        }
        append(.field(String(decoding: bytes[start..<position], as: UTF8.self)))
    }

    /// `[]`, `["name"]`, `[n]` or `[from:to]`, with `position` at the `[`.
    private mutating func bracket() throws(UCANError) {
        position += 1
        guard position < bytes.count else { throw failure("unclosed '['") }
        if bytes[position] == UInt8(ascii: "]") {
            position += 1
            return append(.values)
        }
        if bytes[position] == UInt8(ascii: "\"") {
            let name = try quoted()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "]") else {
                throw failure("expected ']' after a quoted field name at byte \(position)")
            }
            position += 1
            return append(.field(name))
        }
        let start = position
        while position < bytes.count, bytes[position] != UInt8(ascii: "]") { position += 1 }
        guard position < bytes.count else { throw failure("unclosed '['") }
        let inside = bytes[start..<position]
        position += 1
        guard let colon = inside.firstIndex(of: UInt8(ascii: ":")) else {
            guard let index = try integer(inside) else { throw failure("an empty bound is only allowed in a slice") }
            return append(.index(index))
        }
        let from = try integer(inside[start..<colon])
        let to = try integer(inside[(colon + 1)...])
        guard from != nil || to != nil else { throw failure("a slice needs at least one bound") }
        append(.slice(from: from, to: to))
    }

    /// A canonical decimal integer (no `+`, no leading zeros, no `-0`), or nil for an empty bound.
    private func integer(_ digits: ArraySlice<UInt8>) throws(UCANError) -> Int64? {
        if digits.isEmpty { return nil }
        let negative = digits.first == UInt8(ascii: "-")
        let magnitude = negative ? digits.dropFirst() : digits
        guard !magnitude.isEmpty, magnitude.allSatisfy(Self.isDigit) else {
            throw failure("a bracket holds an integer, a slice, a quoted name or nothing")
        }
        guard magnitude.count == 1 || magnitude.first != UInt8(ascii: "0"), !(negative && magnitude == [0x30]) else {
            throw failure("an index is written without leading zeros")
        }
        guard let value = Int64(String(decoding: digits, as: UTF8.self)) else {
            throw failure("an index is out of range")
        }
        return value
    }

    /// A JSON string literal with `position` at its opening quote; leaves `position` after the closing one.
    ///
    /// The bytes come from a Swift `String`, so they are valid UTF-8 and only the escapes need decoding.
    private mutating func quoted() throws(UCANError) -> String {
        position += 1
        var output: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: output, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                if escape == UInt8(ascii: "u") {
                    UTF8.encode(try escapedScalar()) { output.append($0) }
                } else if let unescaped = Self.escapes[escape] {
                    output.append(unescaped)
                } else {
                    throw failure("unknown escape in a quoted field name")
                }
            case 0..<0x20:
                throw failure("a control character must be escaped in a quoted field name")
            default:
                output.append(byte)
            }
        }
        throw failure("unclosed quoted field name")
    }

    /// The scalar of a `\uXXXX` escape (after the `u`), joining a surrogate pair written as two escapes.
    private mutating func escapedScalar() throws(UCANError) -> Unicode.Scalar {
        let unit = try hexUnit()
        if (0xD800...0xDBFF).contains(unit) {
            guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                bytes[position + 1] == UInt8(ascii: "u")
            else { throw failure("unpaired surrogate in a quoted field name") }
            position += 2
            let low = try hexUnit()
            guard (0xDC00...0xDFFF).contains(low) else { throw failure("unpaired surrogate in a quoted field name") }
            return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
        }
        guard let scalar = Unicode.Scalar(unit) else { throw failure("unpaired surrogate in a quoted field name") }
        return scalar
    }

    /// Four hex digits as a UTF-16 code unit.
    private mutating func hexUnit() throws(UCANError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("\\u needs four hex digits") }
        var unit: UInt32 = 0
        for byte in bytes[position..<position + 4] {
            guard let digit = Self.hexValue(byte) else { throw failure("\\u needs four hex digits") }
            unit = unit << 4 | UInt32(digit)
        }
        position += 4
        return unit
    }

    /// `?` after a segment makes it optional; repeats count once, as the spec says.
    private mutating func skipOptionals() {
        while position < bytes.count, bytes[position] == UInt8(ascii: "?") { position += 1 }
    }

    private mutating func append(_ segment: Selector.Segment) {
        let start = position
        skipOptionals()
        steps.append(Selector.Step(segment: segment, optional: position > start))
    }

    private func failure(_ message: String) -> UCANError {
        UCANError(.invalidField, field: field, "selector: \(message)")
    }

    /// JSON's single-character escapes, from the byte after a backslash to the byte it stands for.
    private static let escapes: [UInt8: UInt8] = [
        UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "\\"): UInt8(ascii: "\\"),
        UInt8(ascii: "/"): UInt8(ascii: "/"),
        UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D,
        UInt8(ascii: "t"): 0x09,
    ]

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
