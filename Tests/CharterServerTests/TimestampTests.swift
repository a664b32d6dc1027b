import Foundation
import HTTPTypes
import Testing

@testable import CharterServer

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0), ("2027-01-31T00:00:00Z", 1_801_353_600),
        ("2000-02-29T12:30:45.5Z", 951_827_445.5),
        ("2027-01-31T01:00:00+01:00", 1_801_353_600), ("2027-01-30T19:00:00-05:00", 1_801_353_600),
        ("2026-11-24T14:40:00.123Z", 1_795_531_200.123),
    ])
    func validTimesParse(text: String, seconds: Double) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.0005)
    }

    @Test(arguments: [
        "2026-02-29T00:00:00Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T99:80:90Z", "2026-01-01T00:00:60Z", "2026-01-01T00:00:00", "2026-01-01 00:00:00Z",
        "2026-01-01T00:00:00+0500", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567891Z", "tomorrow",
        "2026-01-01T00:00:00Zjunk", "+2026-01-01T00:00:00Z",
    ])
    func invalidTimesAreRefused(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    /// RFC 3339's grammar writes `T` and `Z` in upper case; the lower-case spellings issue 17 sent are refused,
    /// by the parser the server and the verifier share.
    @Test(arguments: [
        "2027-01-30t19:00:00-05:00", "2026-11-24T14:40:00.123z", "2026-11-24t14:40:00.123z", "2026-01-01t00:00:00Z",
        "2026-01-01T00:00:00z",
    ])
    func lowerCaseTAndZAreRefused(text: String) {
        #expect(Timestamp.parse(text) == nil)
        #expect(Timestamp.parse(text.uppercased()) != nil, "the same time in upper case parses")
    }

    @Test func formattingRoundTrips() throws {
        let date = Date(timeIntervalSince1970: 1_795_531_200.123)
        #expect(Timestamp.format(date) == "2026-11-24T14:40:00.123Z")
        #expect(Timestamp.parse(Timestamp.format(date)) == date)
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }
}
