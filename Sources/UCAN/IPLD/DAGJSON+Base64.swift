extension DAGJSON {
    /// Standard-alphabet base64 (RFC 4648 §4), the form DAG-JSON writes bytes in: unpadded when written, and
    /// unpadded with zero trailing bits when read, so each byte string has exactly one spelling. Padding is available
    /// for callers outside DAG-JSON, such as 1.0 tokens on the command line.
    package enum Base64 {
        private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

        /// Maps an ASCII byte to its 6-bit value, or 0xFF when it is not in the alphabet.
        private static let decodeTable: [UInt8] = {
            var table = [UInt8](repeating: 0xFF, count: 256)
            for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
            return table
        }()

        /// Appends the unpadded encoding of `bytes`, or with `=` padding when `padded`.
        package static func encode(_ bytes: [UInt8], into output: inout [UInt8], padded: Bool = false) {
            output.reserveCapacity(output.count + (bytes.count + 2) / 3 * 4)
            var index = 0
            while index + 3 <= bytes.count {
                let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                for shift: UInt32 in [18, 12, 6, 0] { output.append(alphabet[Int(value >> shift & 63)]) }
                index += 3
            }
            let left = bytes.count - index
            guard left > 0 else { return }
            var value = UInt32(bytes[index]) << 16
            if left == 2 { value |= UInt32(bytes[index + 1]) << 8 }
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            if left == 2 { output.append(alphabet[Int(value >> 6 & 63)]) }
            if padded { output.append(contentsOf: repeatElement(UInt8(ascii: "="), count: 3 - left)) }
        }

        /// The encoding of `bytes` as a string, unpadded unless `padded`.
        package static func encode(_ bytes: [UInt8], padded: Bool = false) -> String {
            var output: [UInt8] = []
            encode(bytes, into: &output, padded: padded)
            return String(decoding: output, as: UTF8.self)
        }

        /// Decodes standard base64; nil for other characters, a length no encoding has, non-zero trailing bits, or
        /// padding unless `allowPadding` (in which case it must be exactly the padding the length calls for).
        package static func decode(_ text: some StringProtocol, allowPadding: Bool = false) -> [UInt8]? {
            var characters = Array(text.utf8)
            if allowPadding, characters.count % 4 == 0 {
                if characters.last == UInt8(ascii: "=") { characters.removeLast() }
                if characters.last == UInt8(ascii: "=") { characters.removeLast() }
            }
            let count = characters.count
            guard count % 4 != 1 else { return nil }
            var output: [UInt8] = []
            output.reserveCapacity(count * 3 / 4)
            var index = 0
            var accumulator: UInt32 = 0
            var bits = 0
            while index < count {
                let value = decodeTable[Int(characters[index])]
                guard value != 0xFF else { return nil }
                accumulator = (accumulator << 6 | UInt32(value)) & 0xFFFF
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                }
                index += 1
            }
            // What is left over must be zero bits that only pad the last character.
            guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
            return output
        }
    }
}
