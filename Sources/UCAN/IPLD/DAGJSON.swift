/// DAG-JSON, the text form of ``IPLD`` values: how `charter ucan inspect` shows a 1.0 token and how the CLI reads
/// arguments, policies and metadata.
///
/// Bytes are written `{"/":{"bytes":"<base64>"}}` (standard alphabet, unpadded) and links `{"/":"<CID>"}`; map
/// keys are sorted by their UTF-8 bytes (not by length first, as DAG-CBOR sorts them) and there is no whitespace.
/// Floats always carry a decimal point and never an exponent, so a float never reads back as an integer and
/// every float has one spelling.
public enum DAGJSON {
    /// Encodes `value` in canonical DAG-JSON.
    ///
    /// A float that is NaN or infinite, which the IPLD data model excludes and ``decode(_:maxDepth:)`` never
    /// produces, is written as `null`. A map that itself has the reserved `"/"` key in a form DAG-JSON uses for
    /// bytes or links (such as `{"/": "text"}`) has no DAG-JSON form; it is written as it is and will not read back
    /// as the same value.
    /// - Parameter value: The value to encode.
    /// - Returns: The UTF-8 bytes of the canonical text.
    public static func encode(_ value: IPLD) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, into: &output, indent: nil)
        return output
    }

    /// Encodes `value` as indented DAG-JSON for people to read: two spaces per level, `": "` after keys, links and
    /// bytes kept on one line. Machines should use ``encode(_:)``.
    /// - Parameter value: The value to encode.
    /// - Returns: The UTF-8 bytes of the text, without a final newline.
    public static func encodePretty(_ value: IPLD) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(value, into: &output, indent: 0)
        return output
    }
}

extension DAGJSON {
    /// Appends `value`; `indent` is the current level when pretty-printing, nil for the compact form.
    static func write(_ value: IPLD, into output: inout [UInt8], indent: Int?) {
        switch value {
        case .null:
            append("null", to: &output)
        case .bool(let flag):
            append(flag ? "true" : "false", to: &output)
        case .integer(let number):
            JSONValue.integer(number).write(into: &output)
        case .float(let number):
            guard number.isFinite else { return append("null", to: &output) }
            writeFloat(number, into: &output)
        case .string(let text):
            JSONValue.writeString(text, into: &output)
        case .bytes(let bytes):
            append(indent == nil ? #"{"/":{"bytes":""# : #"{"/": {"bytes": ""#, to: &output)
            Base64.encode(bytes, into: &output)
            append(#""}}"#, to: &output)
        case .link(let cid):
            append(indent == nil ? #"{"/":""# : #"{"/": ""#, to: &output)
            output.append(contentsOf: cid.string.utf8)
            append(#""}"#, to: &output)
        case .list(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent.map { $0 + 1 }, into: &output)
                write(element, into: &output, indent: indent.map { $0 + 1 })
            }
            if !elements.isEmpty { newline(indent, into: &output) }
            output.append(UInt8(ascii: "]"))
        case .map(let fields):
            output.append(UInt8(ascii: "{"))
            var sorted = Array(fields)
            if sorted.count > 1 { sorted.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) } }
            for (index, (key, field)) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent.map { $0 + 1 }, into: &output)
                JSONValue.writeString(key, into: &output)
                append(indent == nil ? ":" : ": ", to: &output)
                write(field, into: &output, indent: indent.map { $0 + 1 })
            }
            if !sorted.isEmpty { newline(indent, into: &output) }
            output.append(UInt8(ascii: "}"))
        }
    }

    private static func newline(_ indent: Int?, into output: inout [UInt8]) {
        guard let indent else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private static func append(_ text: StaticString, to output: inout [UInt8]) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }

    /// Writes a finite float in plain decimal notation with at least one digit after the point.
    ///
    /// The digits are Swift's shortest round-trip digits, so the text reads back as the same double; only the
    /// layout changes: `1e+16` becomes `10000000000000000.0` and `1e-05` becomes `0.00001`. A point is always
    /// written because DAG-JSON tells floats from integers by it.
    static func writeFloat(_ number: Double, into output: inout [UInt8]) {
        let text = Array(number.description.utf8)
        var index = 0
        if text.first == UInt8(ascii: "-") {
            output.append(UInt8(ascii: "-"))
            index = 1
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        // Where the decimal point falls, counted in digits from the start of `digits`.
        var point = 0
        var seenPoint = false
        while index < text.count, text[index] != UInt8(ascii: "e"), text[index] != UInt8(ascii: "E") {
            if text[index] == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                digits.append(text[index])
                if !seenPoint { point += 1 }
            }
            index += 1
        }
        if index < text.count {
            // Swift writes exponents as e+NN or e-NN; their magnitude stays below 400 for any double.
            index += 1
            var negative = false
            if text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+") {
                negative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            var exponent = 0
            while index < text.count {
                exponent = exponent * 10 + Int(text[index] - UInt8(ascii: "0"))
                index += 1
            }
            point += negative ? -exponent : exponent
        }
        let leading = digits.prefix(while: { $0 == UInt8(ascii: "0") }).count
        digits.removeFirst(leading)
        point -= leading
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        let zero = UInt8(ascii: "0")
        if digits.isEmpty {
            append("0.0", to: &output)
        } else if point <= 0 {
            append("0.", to: &output)
            output.append(contentsOf: repeatElement(zero, count: -point))
            output.append(contentsOf: digits)
        } else if point >= digits.count {
            output.append(contentsOf: digits)
            output.append(contentsOf: repeatElement(zero, count: point - digits.count))
            append(".0", to: &output)
        } else {
            output.append(contentsOf: digits[..<point])
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: digits[point...])
        }
    }
}
