import Foundation
import Testing

@testable import CharterVerifier

/// The feed's timestamps are parsed strictly: the server's exact shape, in range, or nothing.
@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00.000Z", 0.0),
        ("2026-11-24T18:49:50.743Z", 1_795_546_190.743),
        ("2024-02-29T23:59:59.999Z", 1_709_251_199.999),
        ("2000-03-01T00:00:00.000Z", 951_868_800.0),
    ])
    func parsesTheServersFormat(text: String, seconds: TimeInterval) throws {
        let date = try #require(Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.0005)
    }

    @Test(arguments: [
        "", "2026-11-24T18:49:50Z", "2026-11-24T18:49:50.743+00:00", "2026-11-24 18:49:50.743Z",
        "2026-13-01T00:00:00.000Z", "2025-02-29T00:00:00.000Z", "2026-11-24T24:00:00.000Z",
        "2026-11-24T18:60:00.000Z", "2026-11-24T18:49:50.74aZ", "2026-11-24t18:49:50.743z",
    ])
    func rejectsAnythingElse(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }
}
