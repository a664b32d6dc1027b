extension DAGJSON {
    /// Decodes one DAG-JSON document strictly.
    ///
    /// The JSON must be strict RFC 8259 (no duplicate keys, valid UTF-8, no lone surrogates, nothing after the
    /// document). A number with only digits is an integer and must fit `Int64`; one with a point or an exponent
    /// is a float. The reserved `"/"` forms are read as the DAG-JSON spec says: `{"/": "<CID>"}` is a link and must
    /// hold a CIDv1 in base32 (`b…`), `{"/": {"bytes": "<base64>"}}` is bytes and must hold unpadded standard base64,
    /// and the forms the spec rejects (a `"/"` key holding a string or a `{"bytes": <string>}` map beside other
    /// keys; a `{"bytes": <string>, …}` map with other keys under `"/"`) are refused whatever the order of the keys.
    /// Other maps with a `"/"` key, such as `{"/": true, "a": 1}`, are plain maps. Key order and whitespace are not
    /// checked.
    /// - Parameters:
    ///   - text: The UTF-8 text.
    ///   - maxDepth: The deepest nesting of JSON arrays and objects accepted (each bytes value counts two).
    /// - Returns: The value.
    /// - Throws: ``UCANError``: `malformed` naming what is wrong and where; `too_large` when nested deeper than
    ///   `maxDepth`.
    public static func decode(_ text: [UInt8], maxDepth: Int = DAGCBOR.Limits.default.maxDepth) throws(UCANError)
        -> IPLD
    {
        let json: JSONValue
        do {
            json = try JSONParser.parse(text, maxDepth: maxDepth)
        } catch {
            let code: UCANError.Code = error.reason == "nesting too deep" ? .tooLarge : .malformed
            throw UCANError(code, "dag-json at byte \(error.offset): \(error.reason)")
        }
        var converter = Converter()
        let value = try converter.convert(json)
        // The parser turns an integer too large for Int64 into a double; find the lexeme to refuse it.
        if converter.sawHugeDouble, let offset = oversizedInteger(in: text) {
            throw UCANError(.malformed, "dag-json at byte \(offset): integer outside Int64")
        }
        return value
    }

    /// Turns parsed JSON into IPLD, tracking the path to the current value for error messages.
    private struct Converter {
        var path: [PathComponent] = []
        /// Whether any double was at least 2^63 in magnitude: only then can an integer lexeme have overflowed.
        var sawHugeDouble = false

        enum PathComponent {
            case key(String)
            case index(Int)
        }

        mutating func convert(_ json: JSONValue) throws(UCANError) -> IPLD {
            switch json {
            case .null: return .null
            case .bool(let flag): return .bool(flag)
            case .integer(let number): return .integer(number)
            case .double(let number):
                if number.magnitude >= 9_223_372_036_854_775_808.0 { sawHugeDouble = true }
                return .float(number)
            case .string(let text): return .string(text)
            case .array(let elements):
                var list: [IPLD] = []
                list.reserveCapacity(elements.count)
                for (index, element) in elements.enumerated() {
                    path.append(.index(index))
                    list.append(try convert(element))
                    path.removeLast()
                }
                return .list(list)
            case .object(let members):
                if let reserved = try reservedForm(members) { return reserved }
                var fields: [String: IPLD] = [:]
                fields.reserveCapacity(members.count)
                for (key, member) in members {
                    path.append(.key(key))
                    fields[key] = try convert(member)
                    path.removeLast()
                }
                return .map(fields)
            }
        }

        /// The link or bytes an object in the reserved namespace stands for; nil for a plain map; an error for the
        /// forms the spec rejects.
        ///
        /// The spec exempts a map from its rejection rules when some key comes before `"/"` (or before `"bytes"`
        /// inside), and its examples mean the order keys are written in. JSON gives that order no meaning and
        /// ``encode(_:)`` sorts keys, so such a map would re-encode into a rejected form; these rules hold whatever
        /// the order instead, which refuses those few exempted maps too.
        func reservedForm(_ members: JSONObject) throws(UCANError) -> IPLD? {
            guard let slash = members["/"] else { return nil }
            switch slash {
            case .string(let text):
                guard members.count == 1 else {
                    throw malformed(#"a map whose "/" key holds a string (a link) may have no other keys"#)
                }
                guard text.utf8.first == UInt8(ascii: "b"), let cid = try? CID(text, field: "") else {
                    throw malformed("link is not a CIDv1 in base32 with a supported codec and hash")
                }
                return .link(cid)
            case .object(let inner):
                guard case .string(let encoded)? = inner["bytes"] else { return nil }
                guard inner.count == 1 else {
                    throw malformed(#"a "/" map whose "bytes" key holds a string may have no other keys"#)
                }
                guard members.count == 1 else {
                    throw malformed(#"a map whose "/" key holds bytes may have no other keys"#)
                }
                guard let bytes = Base64.decode(encoded) else {
                    let padded = encoded.utf8.last == UInt8(ascii: "=")
                    throw malformed(padded ? "bytes must be base64 without padding" : "bytes are not valid base64")
                }
                return .bytes(bytes)
            default:
                return nil
            }
        }

        func malformed(_ rule: String) -> UCANError {
            UCANError(.malformed, "dag-json at \(pathDescription): \(rule)")
        }

        /// The path in jq form, such as `.args.to[0]`; a key that is not a plain identifier of up to 64 characters
        /// shows as `[…]`, so the message never carries arbitrary text.
        var pathDescription: String {
            guard !path.isEmpty else { return "the top level" }
            var text = ""
            for component in path {
                switch component {
                case .index(let index):
                    text += "[\(index)]"
                case .key(let key):
                    let plain =
                        !key.isEmpty && key.utf8.count <= 64
                        && key.utf8.allSatisfy { char in
                            char == UInt8(ascii: "_") || char == UInt8(ascii: "-")
                                || (char >= UInt8(ascii: "a") && char <= UInt8(ascii: "z"))
                                || (char >= UInt8(ascii: "A") && char <= UInt8(ascii: "Z"))
                                || (char >= UInt8(ascii: "0") && char <= UInt8(ascii: "9"))
                        }
                    text += plain ? ".\(key)" : "[…]"
                }
            }
            return text
        }
    }

    /// The offset of the first number lexeme that has only digits but does not fit `Int64`, in text the JSON
    /// parser has already accepted (so strings are well formed and numbers are valid lexemes).
    static func oversizedInteger(in text: [UInt8]) -> Int? {
        var index = 0
        while index < text.count {
            let char = text[index]
            if char == UInt8(ascii: "\"") {
                index += 1
                while text[index] != UInt8(ascii: "\"") { index += text[index] == UInt8(ascii: "\\") ? 2 : 1 }
                index += 1
                continue
            }
            guard char == UInt8(ascii: "-") || (char >= UInt8(ascii: "0") && char <= UInt8(ascii: "9")) else {
                index += 1
                continue
            }
            let start = index
            let negative = char == UInt8(ascii: "-")
            if negative { index += 1 }
            var magnitude: UInt64 = 0
            var overflow = false
            while index < text.count, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
                let (times, overflowTimes) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, overflowSum) = times.addingReportingOverflow(UInt64(text[index] - UInt8(ascii: "0")))
                overflow = overflow || overflowTimes || overflowSum
                magnitude = sum
                index += 1
            }
            let isInteger =
                index == text.count
                || (text[index] != UInt8(ascii: ".") && text[index] != UInt8(ascii: "e")
                    && text[index] != UInt8(ascii: "E"))
            let limit = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
            if isInteger && (overflow || magnitude > limit) { return start }
            // Skip the rest of a float lexeme: fraction, exponent and its sign.
            while index < text.count, text[index] != UInt8(ascii: ","), text[index] != UInt8(ascii: "]"),
                text[index] != UInt8(ascii: "}"), !Self.isWhitespace(text[index])
            {
                index += 1
            }
        }
        return nil
    }

    private static func isWhitespace(_ char: UInt8) -> Bool {
        char == 0x20 || char == 0x09 || char == 0x0A || char == 0x0D
    }
}
