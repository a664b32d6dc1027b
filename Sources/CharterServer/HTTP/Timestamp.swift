import CharterCore
import Foundation
import UCAN

#if canImport(Glibc)
    import Glibc
#endif

/// RFC 3339 times as the API writes them (`2026-11-24T14:40:00.123Z`) and reads them.
enum Timestamp {
    /// Formats in UTC with milliseconds, straight into bytes (it runs several times per key record).
    static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        write(date, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `date` in the form of ``format(_:)``.
    static func write(_ date: Date, into bytes: inout [UInt8]) {
        let milliseconds = AuditChain.milliseconds(date)
        var seconds = time_t(milliseconds.floorDivided(by: 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func put(_ value: Int32, width: Int, then separator: Unicode.Scalar) {
            var divisor: Int32 = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(0x30 + (value / divisor) % 10))
                divisor /= 10
            }
            bytes.append(UInt8(ascii: separator))
        }
        put(parts.tm_year + 1900, width: 4, then: "-")
        put(parts.tm_mon + 1, width: 2, then: "-")
        put(parts.tm_mday, width: 2, then: "T")
        put(parts.tm_hour, width: 2, then: ":")
        put(parts.tm_min, width: 2, then: ":")
        put(parts.tm_sec, width: 2, then: ".")
        put(Int32(milliseconds - Int64(seconds) * 1000), width: 3, then: "Z")
    }

    /// Parses an RFC 3339 date-time (`2027-01-31T00:00:00Z`, `…T01:00:00.5+01:00`); nil for anything
    /// else, including out-of-range fields that a lenient parser would roll over (`T24:00`, `02-30`).
    static func parse(_ text: String) -> Date? {
        RFC3339.parse(text).map { Date(timeIntervalSince1970: $0) }
    }
}

extension Int64 {
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}
