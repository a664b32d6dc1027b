import CharterCore
import CharterServer
import Foundation
import Hummingbird
import Logging
import UCAN

/// `charter-bench http`: authenticated `GET /v1/me` and `POST /v1/authorize` beside a bare Hummingbird route,
/// all on loopback under wrk in the same run, plus the in-process cost of authenticating a key on a warm cache
/// and the rate of raw libsodium signing.
struct HTTPBenchmark {
    let seconds: Int
    let connections = 64

    func run() async throws {
        let charter = try await BenchCharter()
        defer { charter.remove() }
        let owner = charter.owner
        let controlPlane = charter.controlPlane
        let directory = charter.directory
        let logger = BenchCharter.logger(.error)

        let authCost = try await authenticationCost(controlPlane, key: owner.ownerKey)
        let authorizeScript = try await BenchCharter.authorizeScript(controlPlane, owner: owner, in: directory)
        let signsPerSecond = rawSigningRate()

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let bare = Router()
        bare.get("/bare") { _, _ in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
        let bareApp = Application(
            router: bare, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let charterApp = CharterHTTPServer.application(
            controlPlane: controlPlane, configuration: ServerConfiguration(port: 0), logger: logger,
            onServerRunning: { port in portSink.yield(port) })

        print(
            "charter-bench http: wrk, \(connections) connections, 2 threads, \(seconds)s per run, 2 runs each, interleaved"
        )
        var bareRuns: [WrkResult] = []
        var meRuns: [WrkResult] = []
        var healthRuns: [WrkResult] = []
        var authorizeRuns: [WrkResult] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bareApp.run() }
            group.addTask { try await charterApp.run() }
            var iterator = ports.makeAsyncIterator()
            let first = await iterator.next() ?? 0
            let second = await iterator.next() ?? 0
            // Tell the two apart: the bare app answers /bare.
            let barePort = try isBare(first) ? first : second
            let charterPort = barePort == first ? second : first
            for _ in 0..<2 {
                bareRuns.append(
                    try Wrk.run("http://127.0.0.1:\(barePort)/bare", seconds: seconds, connections: connections))
                meRuns.append(
                    try Wrk.run(
                        "http://127.0.0.1:\(charterPort)/v1/me", header: "Authorization: Bearer \(owner.ownerKey)",
                        seconds: seconds,
                        connections: connections))
                healthRuns.append(
                    try Wrk.run("http://127.0.0.1:\(charterPort)/healthz", seconds: seconds, connections: connections))
                authorizeRuns.append(
                    try Wrk.run(
                        "http://127.0.0.1:\(charterPort)/v1/authorize", script: authorizeScript, seconds: seconds,
                        connections: connections))
            }
            group.cancelAll()
        }
        let bareBest = bareRuns.max { $0.requestsPerSecond < $1.requestsPerSecond }!
        let meBest = meRuns.max { $0.requestsPerSecond < $1.requestsPerSecond }!
        print("bare Hummingbird route   \(bareBest)")
        print("GET /v1/me (authed)      \(meBest)")
        let healthBest = healthRuns.max { $0.requestsPerSecond < $1.requestsPerSecond }!
        print("GET /healthz (no auth)   \(healthBest)")
        let authorizeBest = authorizeRuns.max { $0.requestsPerSecond < $1.requestsPerSecond }!
        print("POST /v1/authorize        \(authorizeBest)")
        print(String(format: "libsodium sign (raw, 1 core): %9.0f signatures/s", signsPerSecond))
        print(String(format: "authenticate, warm cache: %.2f µs per call (in-process)", authCost))
        // Every mint answered 200 must have its audit record, written before the answer.
        let minted = try await controlPlane.store.auditChain(orgID: owner.organization.id, after: 0, limit: .max)
            .filter { $0.event.action == "token.mint" && $0.event.outcome == .success }.count
        let answered = authorizeRuns.reduce(0) { $0 + $1.requests - $1.non2xx }
        print("mints audited: \(minted) records for \(answered) tokens answered (wrk counts only completed requests)")
        print(
            String(
                format:
                    "ratios: me/bare=%.2f authorize/bare=%.2f authorize/raw_sign=%.2f authorize_p99_ms=%.2f auth_us=%.2f",
                meBest.requestsPerSecond / bareBest.requestsPerSecond,
                authorizeBest.requestsPerSecond / bareBest.requestsPerSecond,
                authorizeBest.requestsPerSecond / signsPerSecond, authorizeBest.p99Milliseconds, authCost))
    }

    /// Ed25519 signatures per second on one core over a message the size of a minted token's signed part.
    private func rawSigningRate() -> Double {
        let key = Ed25519.SigningKey()
        let message = [UInt8](repeating: 0x61, count: 600)
        let clock = ContinuousClock()
        var best = 0.0
        for _ in 0..<3 {
            let count = 20_000
            let start = clock.now
            for _ in 0..<count { _ = key.signature(for: message) }
            let (s, atto) = (clock.now - start).components
            best = max(best, Double(count) / (Double(s) + Double(atto) / 1e18))
        }
        return best
    }

    /// Microseconds per `authenticate` on a warm cache, best of five rounds.
    private func authenticationCost(_ controlPlane: ControlPlane, key: String) async throws -> Double {
        let header = "Bearer \(key)"
        let ip = IPAddress("127.0.0.1")
        _ = try await controlPlane.authenticator.authenticate(authorization: header, ip: ip, path: "/v1/me")
        var best = Double.infinity
        let clock = ContinuousClock()
        for _ in 0..<5 {
            let count = 200_000
            let start = clock.now
            for _ in 0..<count {
                _ = try await controlPlane.authenticator.authenticate(authorization: header, ip: ip, path: "/v1/me")
            }
            let (s, atto) = (clock.now - start).components
            best = min(best, (Double(s) + Double(atto) / 1e18) * 1e6 / Double(count))
        }
        return best
    }

    private func isBare(_ port: Int) throws -> Bool {
        let result = try Wrk.run("http://127.0.0.1:\(port)/bare", seconds: 1, connections: 1)
        return result.non2xx == 0
    }
}
