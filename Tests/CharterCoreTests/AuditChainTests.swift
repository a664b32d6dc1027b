import CharterCore
import Foundation
import Testing
import UCAN

/// The record's canonical JSON is written directly, without building and sorting a tree: it must stay byte for
/// byte what the tree serializes to, since exports carry the tree and anyone may re-hash them.
@Suite struct AuditChainTests {
    static let events: [AuditEvent] = [
        AuditEvent(
            time: Date(timeIntervalSince1970: 1_800_000_000.123), orgID: "org_a", environment: .live, keyID: "key_a",
            action: "token.mint", target: "bafkreia", outcome: .success, ip: "203.0.113.9", requestID: "r1",
            details: [
                "audience": "did:key:z6Mk", "capabilities": ["mailto:*": ["email/send": [["n": 5]]]],
                "expires_at": 1_800_000_300, "scope": "email/send", "resource": .null,
            ]),
        AuditEvent(
            time: Date(timeIntervalSince1970: 0), orgID: nil, keyID: nil, action: "request.denied.summary",
            outcome: .denied, reason: "api_key_invalid"),
        AuditEvent(
            time: Date(timeIntervalSince1970: 1_900_000_000), orgID: "org_\u{e9}", environment: .test, keyID: "k",
            action: "key.update", target: "quote \" backslash \\ newline \n tab \t nul \u{0} bidi \u{202E}",
            outcome: .failure, reason: "unavailable", ip: "2001:db8::1", requestID: "\u{1F600}",
            details: ["z": [1, 2.5, true, .null], "a": ["nested": ["b": "c", "a": "d"]], "é": "e"]),
    ]

    @Test(arguments: events)
    func theWrittenJSONIsTheTreesSerialization(event: AuditEvent) {
        for seq: Int64 in [1, 42, Int64.max] {
            let tree = AuditChain.json(seq: seq, event: event).serialized()
            #expect(AuditChain.canonicalJSON(seq: seq, event: event) == tree)
            let previous = [UInt8](repeating: 7, count: 32)
            #expect(AuditChain.hash(seq: seq, event: event, previous: previous) == SHA256.hash(previous + tree))
        }
    }
}
