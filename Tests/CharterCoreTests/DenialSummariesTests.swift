import CharterCore
import Foundation
import Testing

/// Anonymous refusals fold into one record per address per minute, in bounded memory.
@Suite struct DenialSummariesTests {
    /// 10 s into a minute of the clock.
    static let start = Date(timeIntervalSince1970: 1_800_000_010)

    @Test func aMinuteOfRefusalsFromOneAddressIsOneRecordWithTheCounts() throws {
        var summaries = DenialSummaries()
        for index in 0..<200 {
            let reason = index < 30 ? "api_key_invalid" : index < 190 ? "rate_limited" : "api_key_malformed"
            #expect(summaries.add(reason: reason, ip: "203.0.113.9", at: Self.start + Double(index) / 10).isEmpty)
        }
        #expect(summaries.close(endedBy: Self.start + 49).isEmpty, "the minute is still open")
        let records = summaries.close(endedBy: Self.start + 50)
        let record = try #require(records.first)
        #expect(records.count == 1)
        #expect(record.action == DenialSummaries.action && record.orgID == nil && record.keyID == nil)
        #expect(record.ip == "203.0.113.9" && record.outcome == .denied && record.reason == "rate_limited")
        #expect(record.details["count"] == 200)
        #expect(record.details["reasons"] == ["api_key_invalid": 30, "rate_limited": 160, "api_key_malformed": 10])
        #expect(record.details["first_ms"] == 1_800_000_010_000)
        #expect(record.details["last_ms"] == 1_800_000_029_900)
        #expect(record.details["window_start_ms"] == 1_800_000_000_000)
        #expect(summaries.close(endedBy: nil).isEmpty, "written once")
    }

    @Test func aNewMinuteClosesThePreviousOne() {
        var summaries = DenialSummaries()
        _ = summaries.add(reason: "api_key_invalid", ip: "198.51.100.1", at: Self.start)
        _ = summaries.add(reason: "api_key_invalid", ip: "198.51.100.2", at: Self.start)
        let closed = summaries.add(reason: "api_key_missing", ip: "198.51.100.1", at: Self.start + 60)
        #expect(closed.map(\.ip) == ["198.51.100.1", "198.51.100.2"])
        // A clock stepped back counts into the open minute rather than reopening a written one.
        #expect(summaries.add(reason: "api_key_missing", ip: "198.51.100.1", at: Self.start).isEmpty)
        let last = summaries.close(endedBy: nil)
        #expect(last.count == 1 && last.first?.details["count"] == 2 && last.first?.reason == "api_key_missing")
    }

    @Test func addressesBeyondTheLimitShareOneRecordSoMemoryIsBounded() throws {
        var summaries = DenialSummaries(addressLimit: 3)
        for index in 0..<1000 {
            _ = summaries.add(reason: "api_key_invalid", ip: "2001:db8::\(index)", at: Self.start)
            #expect(summaries.openRecords <= 4)
        }
        _ = summaries.add(reason: "api_key_invalid", ip: "2001:db8::1", at: Self.start)
        _ = summaries.add(reason: "api_key_invalid", ip: nil, at: Self.start)
        let records = summaries.close(endedBy: nil)
        #expect(records.count == 4)
        #expect(records.prefix(3).compactMap(\.ip) == ["2001:db8::0", "2001:db8::1", "2001:db8::2"])
        #expect(records[1].details["count"] == 2, "a tallied address keeps counting past the limit")
        let others = try #require(records.last)
        #expect(others.ip == nil && others.details["other_addresses"] == true)
        #expect(others.details["count"] == 998)
        #expect(records.reduce(0) { $0 + ($1.details["count"]?.integerValue ?? 0) } == 1002)
    }

    @Test func onlyAStoreOutageMakesAFailureRecord() {
        var summaries = DenialSummaries()
        _ = summaries.add(reason: "unavailable", ip: "192.0.2.1", at: Self.start)
        _ = summaries.add(reason: "api_key_invalid", ip: "192.0.2.2", at: Self.start)
        #expect(summaries.close(endedBy: nil).map(\.outcome) == [.failure, .denied])
    }
}
