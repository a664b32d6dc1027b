extension IPLD {
    /// A one-line, JSON-like rendering for messages: `["==", ".a", 1]`.
    ///
    /// It follows DAG-JSON's shapes for bytes and links and orders map keys canonically, but it is for
    /// people, not for parsing: the policy code does not depend on the DAG-JSON codec.
    var policyText: String {
        var output = ""
        write(into: &output)
        return output
    }

    private func write(into output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .integer(let value): output += String(value)
        case .float(let value): output += String(value)
        case .string(let text): Self.quote(text, into: &output)
        case .bytes(let bytes):
            // DAG-JSON writes bytes as standard base64 without padding.
            let text = String(Base64URL.encode(bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
            output += "{\"/\": {\"bytes\": \"\(text)\"}}"
        case .link(let cid): output += "{\"/\": \"\(cid)\"}"
        case .list(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += ", " }
                element.write(into: &output)
            }
            output += "]"
        case .map(let fields):
            output += "{"
            for (index, field) in fields.sorted(by: { Self.canonicalKeyOrder($0.key, $1.key) }).enumerated() {
                if index > 0 { output += ", " }
                Self.quote(field.key, into: &output)
                output += ": "
                field.value.write(into: &output)
            }
            output += "}"
        }
    }

    /// A JSON string literal; control characters are escaped so that a message stays on one line.
    private static func quote(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
