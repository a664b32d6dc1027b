import Foundation
import UCAN

/// Charter's timestamps: RFC 3339 in UTC with milliseconds, exactly `2026-11-24T18:49:50.743Z`.
enum Timestamp {
    /// Parses the server's format strictly: that exact shape, with fields in range, or nil.
    static func parse(_ text: String) -> Date? {
        let bytes = text.utf8
        guard bytes.count == 24 else { return nil }
        let shape: [(offset: Int, byte: UInt8)] = [
            (4, UInt8(ascii: "-")), (7, UInt8(ascii: "-")), (10, UInt8(ascii: "T")), (13, UInt8(ascii: ":")),
            (16, UInt8(ascii: ":")), (19, UInt8(ascii: ".")), (23, UInt8(ascii: "Z")),
        ]
        guard shape.allSatisfy({ bytes[bytes.index(bytes.startIndex, offsetBy: $0.offset)] == $0.byte }) else {
            return nil
        }
        return RFC3339.parse(text).map { Date(timeIntervalSince1970: $0) }
    }
}
