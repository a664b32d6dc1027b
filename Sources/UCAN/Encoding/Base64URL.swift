/// Unpadded base64url (RFC 4648 §5), the alphabet JWT segments use.
package enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Maps an ASCII byte to its 6-bit value, or 0xFF when it is not in the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    /// Appends the encoding of `bytes` to `output`.
    package static func encode(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + (bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        switch bytes.count - index {
        case 1:
            let value = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
        case 2:
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
        default:
            break
        }
    }

    /// The length of the unpadded encoding of `count` bytes.
    package static func encodedCount(_ count: Int) -> Int { count / 3 * 4 + [0, 2, 3][count % 3] }

    /// Encodes `bytes` as a string.
    package static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        bytes.withUnsafeBytes { encode($0, into: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes unpadded base64url, refusing padding, other alphabets and non-canonical trailing bits.
    ///
    /// Rejecting non-zero trailing bits keeps the mapping one-to-one, so two different strings never
    /// carry the same signature or payload.
    package static func decode(_ text: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = text.count
        if count % 4 == 1 { return nil }
        var output = [UInt8]()
        output.reserveCapacity(count * 3 / 4)
        var index = 0
        while index + 4 <= count {
            let a = decodeTable[Int(text[index])], b = decodeTable[Int(text[index + 1])]
            let c = decodeTable[Int(text[index + 2])], d = decodeTable[Int(text[index + 3])]
            guard (a | b | c | d) & 0xC0 == 0 else { return nil }
            let value = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
            output.append(UInt8(value >> 16 & 0xFF))
            output.append(UInt8(value >> 8 & 0xFF))
            output.append(UInt8(value & 0xFF))
            index += 4
        }
        switch count - index {
        case 2:
            let a = decodeTable[Int(text[index])], b = decodeTable[Int(text[index + 1])]
            guard (a | b) & 0xC0 == 0, b & 0x0F == 0 else { return nil }
            output.append(a << 2 | b >> 4)
        case 3:
            let a = decodeTable[Int(text[index])], b = decodeTable[Int(text[index + 1])]
            let c = decodeTable[Int(text[index + 2])]
            guard (a | b | c) & 0xC0 == 0, c & 0x03 == 0 else { return nil }
            output.append(a << 2 | b >> 4)
            output.append((b & 0x0F) << 4 | c >> 2)
        default:
            break
        }
        return output
    }

    /// Decodes unpadded base64url text.
    package static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var copy = String(text)
        return copy.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }
}
