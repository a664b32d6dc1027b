/// Bitcoin-alphabet base58 ("base58btc"), used by did:key.
package enum Base58 {
    private static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    /// Encodes `bytes`; each leading zero byte becomes a leading `1`.
    package static func encode(_ bytes: [UInt8]) -> String {
        let zeros = bytes.prefix { $0 == 0 }.count
        // Base-58 digits, least significant first; log(256)/log(58) < 1.37.
        var digits = [UInt8](repeating: 0, count: bytes.count * 137 / 100 + 1)
        var length = 0
        for byte in bytes[zeros...] {
            var carry = Int(byte)
            var i = 0
            while i < length || carry != 0 {
                carry += 256 * Int(digits[i])
                digits[i] = UInt8(carry % 58)
                carry /= 58
                i += 1
            }
            length = i
        }
        var output = [UInt8](repeating: alphabet[0], count: zeros)
        output.reserveCapacity(zeros + length)
        for i in stride(from: length - 1, through: 0, by: -1) { output.append(alphabet[Int(digits[i])]) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes base58btc text, or returns nil on a character outside the alphabet or input over `maxLength`.
    ///
    /// Digits are folded in five at a time (58^5 < 2^32) into 32-bit limbs, which keeps did:key parsing,
    /// done for every token, well under a microsecond.
    package static func decode(_ text: some StringProtocol, maxLength: Int = 128) -> [UInt8]? {
        let utf8 = text.utf8
        guard utf8.count <= maxLength else { return nil }
        let zeros = utf8.prefix { $0 == alphabet[0] }.count
        var limbs: [UInt32] = []  // little-endian base 2^32
        limbs.reserveCapacity(utf8.count * 733 / 4000 + 2)
        var group: UInt64 = 0
        var scale: UInt64 = 1
        func fold() {
            var carry = group
            for index in limbs.indices {
                let product = UInt64(limbs[index]) * scale + carry
                limbs[index] = UInt32(truncatingIfNeeded: product)
                carry = product >> 32
            }
            if carry != 0 { limbs.append(UInt32(carry)) }
            group = 0
            scale = 1
        }
        for char in utf8.dropFirst(zeros) {
            let digit = decodeTable[Int(char)]
            guard digit != 0xFF else { return nil }
            group = group * 58 + UInt64(digit)
            scale *= 58
            if scale == 656_356_768 { fold() }  // 58^5
        }
        if scale > 1 { fold() }
        var bytes = [UInt8](repeating: 0, count: zeros)
        bytes.reserveCapacity(zeros + limbs.count * 4)
        var started = false
        for limb in limbs.reversed() {
            for shift in stride(from: 24, through: 0, by: -8) {
                let byte = UInt8(truncatingIfNeeded: limb >> UInt32(shift))
                if byte != 0 { started = true }
                if started { bytes.append(byte) }
            }
        }
        return bytes
    }
}
