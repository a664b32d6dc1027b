import CharterClient
import CharterCore
import CharterSQLite
import CharterServer
import Foundation
import Hummingbird
import Logging
import UCAN

/// `charter-bench client`: CharterClient against a real server on loopback — tokens served from the cache
/// per second beside fresh mints per second through the same client, and how many `/v1/authorize` calls
/// 1,000 concurrent requests for one capability set cause.
struct ClientBenchmark {
    let seconds: Double

    func run() async throws {
        let charter = try await BenchCharter()
        defer { charter.remove() }
        let store = charter.store
        let owner = charter.owner
        let controlPlane = charter.controlPlane
        let logger = BenchCharter.logger(.critical)
        let caller = try await charter.ownerIdentity()
        let context = BenchCharter.context
        _ = try await controlPlane.envelopes.create(
            appID: owner.app.id, name: "bench", capabilities: ["mailto:*": ["email/send": [[:]]]],
            maxTTLSeconds: 900, by: caller, context: context)
        let agentKey = try await controlPlane.keys.create(
            NewKeyRequest(appID: owner.app.id, label: "agent", role: "agent"), by: caller, context: context
        ).plaintext

        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let app = CharterHTTPServer.application(
            controlPlane: controlPlane, configuration: ServerConfiguration(port: 0), logger: logger,
            onServerRunning: { sink.yield($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await controlPlane.store.withServices { try await app.run() } }
            var iterator = ports.makeAsyncIterator()
            let server = URL(string: "http://127.0.0.1:\(await iterator.next() ?? 0)")!
            func client() throws -> CharterClient {
                try CharterClient(server: server, apiKey: agentKey, identity: .key(Ed25519.SigningKey()))
            }
            func capabilities(_ index: Int) throws -> Capabilities {
                try Capabilities([Capability(resource: "mailto:agent-\(index)@example.com", ability: "email/send")])
            }
            let clock = ContinuousClock()
            func perSecond(_ count: Int, since start: ContinuousClock.Instant) -> Double {
                Double(count) / (clock.now - start).inSeconds
            }

            // Fresh mints, one after another: every call goes to /v1/authorize (a new capability set each time).
            let minting = try client()
            var minted = 0
            var start = clock.now
            while clock.now - start < .seconds(seconds) {
                _ = try await minting.token(for: try capabilities(minted))
                minted += 1
            }
            let mintRate = perSecond(minted, since: start)

            // The same set again and again: served from the cache.
            let cached = try client()
            let set = try capabilities(0)
            _ = try await cached.token(for: set)
            var hits = 0
            start = clock.now
            while clock.now - start < .seconds(seconds) {
                for _ in 0..<1000 { _ = try await cached.token(for: set) }
                hits += 1000
            }
            let hitRate = perSecond(hits, since: start)

            // 1,000 concurrent first requests for one set on a fresh client.
            let before = try await mintCount(store, org: owner.organization.id)
            let fresh = try client()
            let distinct = try await withThrowingTaskGroup(of: String.self) { tasks in
                for _ in 0..<1000 { tasks.addTask { try await fresh.token(for: set).encoded } }
                return try await tasks.reduce(into: Set<String>()) { $0.insert($1) }
            }
            let calls = try await mintCount(store, org: owner.organization.id) - before

            print(
                "charter-bench client: CharterClient against charter serve on loopback (SQLite), \(seconds)s per rate")
            print(String(format: "fresh tokens via /v1/authorize, sequential: %10.0f tokens/s", mintRate))
            print(String(format: "tokens from the cache, one task:            %10.0f tokens/s", hitRate))
            print(
                "1,000 concurrent token(for:) on a cold cache: \(calls) /v1/authorize call(s), \(distinct.count) token(s)"
            )
            print(String(format: "ratios: cached/fresh=%.0f authorize_calls_for_1000=%d", hitRate / mintRate, calls))
            group.cancelAll()
        }
    }

    private func mintCount(_ store: SQLiteStore, org: String) async throws -> Int {
        try await store.auditChain(orgID: org, after: 0, limit: .max).filter {
            $0.event.action == "token.mint" && $0.event.outcome == .success
        }.count
    }
}
