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

    @Test func theMeTemplateFilledIsTheRecordWrittenWhole() throws {
        let organization = Organization(
            id: "org_1", name: "Acme \"quoted\"", createdAt: Date(timeIntervalSince1970: 1_795_000_000))
        let key = APIKey(
            orgID: "org_1", appID: "app_1", environment: .test, label: "worker", prefix: "chr_test_abcd…wxyz",
            role: .agent, permissions: Role.agent.permissions, secretHash: [],
            createdAt: Date(timeIntervalSince1970: 1_795_531_200.5), createdBy: "key_0",
            expiresAt: Date(timeIntervalSince1970: 1_795_531_250),
            lastUsedAt: Date(timeIntervalSince1970: 1_795_531_201), usageCount: 7)
        let caller = Identity(key: key, organization: organization, usage: UsageTracker().counter(keyID: key.id))
        let template = Representation.me(caller)
        // Before and after the key expires, with and without usage not yet stored.
        for (now, unflushed) in [
            (Date(timeIntervalSince1970: 1_795_531_240), nil),
            (
                Date(timeIntervalSince1970: 1_795_531_260),
                KeyUsage(count: 3, lastUsedAt: Date(timeIntervalSince1970: 1_795_531_230.25))
            ),
        ] {
            let filled = template.filled { index, bytes in
                Representation.LiveKeyMember(rawValue: index)!.write(key, at: now, unflushed: unflushed, into: &bytes)
            }
            let whole = JSONObjectWriter.write { json in
                json.object("api_key") { Representation.key(key, at: now, unflushed: unflushed, into: &$0) }
                json.object("organization") { Representation.organization(organization, into: &$0) }
            }
            #expect(String(decoding: filled, as: UTF8.self) == String(decoding: whole, as: UTF8.self))
            #expect(try JSONParser.parse(filled).serialized() == filled, "canonical JSON")
        }
        #expect(caller.memoized(Representation.me) === caller.memoized(Representation.me), "rendered once")
    }

    @Test func emptyListsAndObjects() throws {
        let bytes = JSONObjectWriter.write { json in
            json.objects("items", [Int]()) { _, _ in }
            json.object("none") { _ in }
            json.strings("words", [])
        }
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"items":[],"none":{},"words":[]}"#)
    }

    @Test func membersGivenOutOfOrderComeOutInCanonicalOrder() throws {
        let bytes = JSONObjectWriter.write { json in
            json.string("zeta", "last")
            json.objects("list", [2, 1]) { number, json in
                json.integer("b", Int64(number))
                json.object("a") { json in
                    json.strings("y", ["1"])
                    json.string("x", nil)
                }
            }
            json.integer("alpha", 1)
            json.value("a_b", ["z": 1, "y": 2])
            json.integer("a", 0)
        }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(
            text
                == #"{"a":0,"a_b":{"y":2,"z":1},"alpha":1,"list":[{"a":{"x":null,"y":["1"]},"b":2},{"a":{"x":null,"y":["1"]},"b":1}],"zeta":"last"}"#
        )
        #expect(try JSONParser.parse(bytes).serialized() == bytes)
    }

    @Test func holesMoveWithTheirMembersWhenAnObjectIsReordered() {
        let template = JSONTemplate { json in
            json.object("record") { json in
                json.hole("z")
                json.string("m", "middle")
                json.hole("b")
            }
            json.hole("a")
        }
        let filled = template.filled { index, bytes in bytes.append(contentsOf: Array("\(index)".utf8)) }
        #expect(String(decoding: filled, as: UTF8.self) == #"{"a":2,"record":{"b":1,"m":"middle","z":0}}"#)
    }
}
