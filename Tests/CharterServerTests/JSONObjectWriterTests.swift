import CharterCore
import Foundation
import Testing
import UCAN

@testable import CharterServer

/// The member-by-member writer must produce exactly what the canonical serializer would.
@Suite struct JSONObjectWriterTests {
    @Test func aKeyRecordIsCanonicalJSON() throws {
        let key = APIKey(
            orgID: "org_1", appID: "app_1", environment: .live, label: "quote \" slash / tab \t é",
            prefix: "chr_live_abcd…wxyz", role: nil, permissions: [.keysRead, .appsRead],
            secretHash: [], createdAt: Date(timeIntervalSince1970: 1_795_531_200.123), createdBy: nil,
            expiresAt: Date(timeIntervalSince1970: 1_801_353_600), usageCount: 42,
            ipAllowlist: [try CIDR("10.0.0.0/8"), try CIDR("2001:db8::/32")],
            allowedEndpoints: ["/v1/me"], rateLimitPerMinute: 60)
        let bytes = JSONObjectWriter.write { json in
            json.object("api_key") {
                Representation.key(key, at: Date(timeIntervalSince1970: 1_795_531_300), into: &$0)
            }
            json.value("extra", ["b": 1, "a": [true, .null]])
        }
        let parsed = try JSONParser.parse(bytes)
        #expect(parsed.serialized() == bytes)
        guard case .object(let body) = parsed, case .object(let record) = body["api_key"] else {
            Issue.record("not an object: \(String(decoding: bytes, as: UTF8.self))")
            return
        }
        #expect(record.count == 18)
        #expect(record["label"] == .string(key.label))
        #expect(record["role"] == .null)
        #expect(record["revoked_at"] == .null)
        #expect(record["created_at"] == .string("2026-11-24T14:40:00.123Z"))
        #expect(record["expires_at"] == .string("2027-01-31T00:00:00.000Z"))
        #expect(record["permissions"] == ["apps.read", "keys.read"])
        #expect(record["ip_allowlist"] == ["10.0.0.0/8", "2001:db8::/32"])
        #expect(record["usage_count"] == 42)
        #expect(record["rate_limit_per_minute"] == 60)
        #expect(record["status"] == "active")
    }

    @Test func emptyListsAndObjects() throws {
        let bytes = JSONObjectWriter.write { json in
            json.objects("items", [Int]()) { _, _ in }
            json.object("none") { _ in }
            json.strings("words", [])
        }
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"items":[],"none":{},"words":[]}"#)
    }
}
