/// Unsigned LEB128 varints as multiformats use them (at most 9 bytes, minimal encoding).
package enum Varint {
    /// Appends the varint encoding of `value`.
    package static func append(_ value: UInt64, to output: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            output.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        output.append(UInt8(value))
    }

    /// Reads a varint at `index`, advancing it; nil when truncated, too long or not minimally encoded.
    package static func read(_ bytes: [UInt8], at index: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        for position in index..<min(bytes.count, index + 9) {
            let byte = bytes[position]
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                // A trailing zero group means a longer-than-needed encoding.
                if byte == 0 && position > index { return nil }
                index = position + 1
                return value
            }
            shift += 7
        }
        return nil
    }
}
