import CharterCore
import Foundation
import HTTPTypes
import Logging
import Synchronization
import Testing
import UCAN

/// An anonymous flood costs one audit record per address per minute; a known key's refusals stay one record
/// each in its organization's trail.
@Suite struct DenialSummaryTests {
    @Test func twoHundredGarbageKeysFromOneAddressAreOneSummaryPerMinute() async throws {
        // 10 s into a minute, so the flood and the mid-minute flush fall in the same window.
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_010))
        let server = try await TestServer(clock: clock.clock)
        defer { server.removeFiles() }
        let flusher = BackgroundFlusher(controlPlane: server.controlPlane, logger: Logger(label: "test"))
        let unattributed = { @Sendable in try await server.store.auditChain(orgID: nil, after: 0, limit: 1000) }
        try await server.run { client in
            for index in 0..<200 {
                let key: String? =
                    switch index % 4 {
                    case 0: nil
                    case 1: "garbage"
                    case 2: "chr_live_malformed"
                    default: APIKeySecret.generate(for: .live).plaintext
                    }
                let reply = try await client.get("/v1/me", key: key)
                #expect(reply.status == .unauthorized || reply.status == .tooManyRequests, "\(index)")
            }
            await flusher.flushOnce(closingOpenSummaries: false)
            #expect(try await unattributed().isEmpty, "the minute is still counting")

            clock.advance(60)
            await flusher.flushOnce(closingOpenSummaries: false)
            let first = try await unattributed()
            #expect(first.count == 1)
            let summary = try #require(first.first?.event)
            #expect(summary.action == DenialSummaries.action && summary.outcome == .denied)
            #expect(summary.ip == "127.0.0.1" && summary.keyID == nil && summary.orgID == nil)
            #expect(summary.details["count"] == 200)
            let reasons = try #require(summary.details["reasons"]?.objectValue)
            #expect(reasons.values.reduce(0) { $0 + ($1.integerValue ?? 0) } == 200)
            #expect(reasons["api_key_missing"] == 50)
            #expect(
                Set(reasons.keys).isSubset(of: [
                    "api_key_missing", "api_key_malformed", "api_key_invalid", "rate_limited",
                ]))

            for _ in 0..<5 { _ = try await client.get("/v1/me", key: "garbage") }
        }
        // The flush at shutdown writes the minute still open.
        let all = try await unattributed()
        #expect(all.count == 2)
        #expect(all.last?.event.details["count"] == 5)
        #expect(all.last?.event.details["window_start_ms"] == 1_800_000_060_000)
        #expect(try await AuditService(store: server.store).verifyAll().breaks.isEmpty)
    }

    @Test func aKnownKeysRefusalsAreStillOneRecordEachInItsOrganizationsTrail() async throws {
        let clock = ManualClock(Date(timeIntervalSince1970: 1_800_000_010))
        let server = try await TestServer(clock: clock.clock)
        defer { server.removeFiles() }
        let owner = server.owner.ownerKey
        let app = server.owner.app.id
        let memberID = try await server.run { client in
            let member = try await client.createKey(owner, app: app, role: "member")
            for _ in 0..<5 { #expect(try await client.get("/v1/keys", key: member.key).status == .forbidden) }
            let slow = try await client.createKey(owner, app: app, extra: ["rate_limit_per_minute": 1])
            #expect(try await client.get("/v1/me", key: slow.key).status == .ok)
            #expect(try await client.get("/v1/me", key: slow.key).status == .tooManyRequests)
            _ = try await client.post("/v1/keys/\(member.id)/revoke", key: owner)
            for _ in 0..<3 { #expect(try await client.get("/v1/me", key: member.key).status == .unauthorized) }
            return member.id
        }
        let denials = try await server.store.auditRecords(
            orgID: server.owner.organization.id, query: AuditQuery(action: "request.denied", limit: 100))
        let member = denials.filter { $0.event.keyID == memberID }
        #expect(member.filter { $0.event.reason == "permission_denied" }.count == 5)
        #expect(member.filter { $0.event.reason == "api_key_revoked" }.count == 3)
        #expect(denials.filter { $0.event.reason == "rate_limited" }.count == 1)
        #expect(denials.allSatisfy { $0.event.requestID != nil && $0.event.ip == "127.0.0.1" })
        #expect(try await server.store.auditChain(orgID: nil, after: 0, limit: 100).isEmpty, "nothing was folded")
    }
}
