import CharterCore
import Foundation
import HTTPTypes
import Synchronization
import Testing
import UCAN

/// Guessing keys from one address: each guess is counted in the address's audit summary for the minute, and
/// past the budget the address is refused
/// without a lookup, while other addresses and keys already in use go on working.
@Suite struct BruteForceTests {
    static let forwarded = HTTPField.Name("X-Forwarded-For")!

    @Test func guessesFromOneAddressAreCutOffBeforeTheStoreAndAudited() async throws {
        // A stopped clock: the budget must not refill while a loaded machine runs the test slowly.
        let stopped = Date()
        let server = try await TestServer(
            trustedProxies: [try CIDR("127.0.0.1/32"), try CIDR("::1/128")], clock: CharterClock { stopped })
        defer { server.removeFiles() }
        let budget = Authenticator.failedAttemptsPerMinute
        try await server.run { client in
            let owner = server.owner.ownerKey
            let attacker: HTTPFields = [Self.forwarded: "203.0.113.66"]
            let neighbour: HTTPFields = [Self.forwarded: "203.0.113.67"]
            #expect(try await client.get("/v1/me", key: owner, headers: attacker).status == .ok, "owner key cached")

            let lookupsBefore = server.store.secretHashLookups
            for guess in 0..<budget {
                let reply = try await client.get(
                    "/v1/me", key: APIKeySecret.generate(for: .live).plaintext, headers: attacker)
                #expect(reply.status == .unauthorized, "guess \(guess)")
            }
            #expect(server.store.secretHashLookups == lookupsBefore + budget)

            for shape in [APIKeySecret.generate(for: .live).plaintext, "chr_live_malformed"] {
                let refused = try await client.get("/v1/me", key: shape, headers: attacker)
                #expect(refused.status == .tooManyRequests && refused.code == "rate_limited")
                #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
            }
            #expect(server.store.secretHashLookups == lookupsBefore + budget, "no lookup once over budget")

            #expect(try await client.get("/v1/me", key: owner, headers: attacker).status == .ok, "a key in use works")
            // An edit drops the key's cached entry, but a key already seen is not a guess.
            let edited = try await client.call(
                .patch, "/v1/keys/\(server.owner.keyID)", key: owner, json: ["label": "owner (edited)"],
                headers: neighbour)
            #expect(edited.status == .ok)
            let afterEdit = try await client.get("/v1/me", key: owner, headers: attacker)
            #expect(afterEdit.status == .ok, "a key in use works after an edit too")
            #expect(afterEdit.json["api_key"]?["label"] == "owner (edited)")
            let other = try await client.get(
                "/v1/me", key: APIKeySecret.generate(for: .live).plaintext, headers: neighbour)
            #expect(other.status == .unauthorized, "another address has its own budget")
        }
        let denied = try await server.store.auditChain(orgID: nil, after: 0, limit: 1000)
        #expect(denied.count == 2, "one summary per address for the minute, not a record per guess")
        #expect(denied.allSatisfy { $0.event.action == DenialSummaries.action })
        let attacker = try #require(denied.first { $0.event.ip == "203.0.113.66" })
        #expect(attacker.event.details["reasons"] == ["api_key_invalid": .integer(Int64(budget)), "rate_limited": 2])
        #expect(attacker.event.details["count"] == .integer(Int64(budget + 2)))
        #expect(denied.first { $0.event.ip == "203.0.113.67" }?.event.details["reasons"] == ["api_key_invalid": 1])
    }

    @Test func aRevokedKeyNeverSucceedsDuringABurstThatStartedBeforeTheRevocation() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            let victim = try await client.createKey(owner, app: server.owner.app.id)
            _ = try await client.get("/v1/me", key: victim.key)
            let revokedAt = Moment()
            // Each caller keeps calling until it has sent five requests after the revocation returned, so the
            // check cannot pass with every request landing before it.
            let (late, after) = try await withThrowingTaskGroup(of: (late: Int, after: Int).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var (late, after) = (0, 0)
                        while after < 5 {
                            let sent = ContinuousClock.now
                            let reply = try await client.get("/v1/me", key: victim.key)
                            revokedAt.answered.add(1, ordering: .relaxed)
                            if let revoked = revokedAt.value.withLock({ $0 }), sent > revoked {
                                after += 1
                                if reply.status == .ok { late += 1 }
                            }
                        }
                        return (late, after)
                    }
                }
                group.addTask {
                    // The burst is under way before the revocation is sent.
                    while revokedAt.answered.load(ordering: .relaxed) < 16 { await Task.yield() }
                    let reply = try await client.post("/v1/keys/\(victim.id)/revoke", key: owner)
                    #expect(reply.status == .ok)
                    revokedAt.value.withLock { $0 = ContinuousClock.now }
                    return (0, 0)
                }
                return try await group.reduce(into: (late: 0, after: 0)) { total, each in
                    total = (total.late + each.late, total.after + each.after)
                }
            }
            #expect(after >= 40, "every caller sent requests after the revocation")
            #expect(late == 0, "a request sent after the revocation returned succeeded")
            #expect(try await client.get("/v1/me", key: victim.key).code == "api_key_revoked")
        }
    }
}

/// A moment one task records and others read, and how many answers came in.
final class Moment: Sendable {
    let value = Mutex<ContinuousClock.Instant?>(nil)
    let answered = Atomic(0)
}

/// A known path asked with the wrong method says which methods it takes; an unknown path stays a 404.
@Suite struct MethodTests {
    @Test func undeclaredMethodsAre405WithAllow() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run { client in
            let owner = server.owner.ownerKey
            for (method, path, allow) in [
                (HTTPRequest.Method.put, "/v1/apps", "GET, POST"), (.delete, "/v1/keys/key_x", "GET, PATCH"),
                (.post, "/v1/me", "GET"), (.delete, "/v1/issuers", "GET"), (.post, "/healthz", "GET"),
                (.get, "/dashboard/sign-out", "POST"), (.put, "/dashboard/sign-in", "GET, POST"),
            ] {
                let reply = try await client.call(method, path, key: owner)
                #expect(reply.status == .methodNotAllowed && reply.code == "method_not_allowed", "\(method) \(path)")
                #expect(reply.headers[.allow] == allow, "\(method) \(path)")
            }
            #expect(try await client.get("/v1/nothing-here", key: owner).status == .notFound)
            // This server has no metrics: a 404 that says so, not a 405 telling the caller to use GET.
            let metrics = try await client.get("/metrics", key: nil)
            #expect(metrics.status == .notFound && metrics.code == "not_found")
            #expect(try await client.call(.put, "/v1/keys/a/b/c", key: owner).status == .notFound)
        }
    }
}
