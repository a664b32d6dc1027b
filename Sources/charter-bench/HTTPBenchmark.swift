import CharterCore
import CharterServer
import Foundation
import Hummingbird
import Logging
import UCAN

/// `charter-bench http`: authenticated `GET /v1/me` and `POST /v1/authorize` beside bare Hummingbird routes (the
/// floors: a GET, a POST answered, + 1 signature, + its record stored durably), all on loopback under wrk in the
/// same run, plus the in-process cost of authenticating a key on a warm cache and the rate of raw libsodium signing.
struct HTTPBenchmark {
    let seconds: Int
    /// Rounds of back-to-back runs; the figures are medians over rounds (the machine's noise moves whole runs).
    let rounds: Int
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
        let delegationScript = try BenchCharter.delegationScript(owner: owner, in: directory)
        let signsPerSecond = rawSigningRate()

        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let bare = Router()
        bare.get("/bare") { _, _ in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"ok":true}"#)))
        }
        // The floor of any mint: the authorize request's body read, one Ed25519 signature over a token-sized
        // message, and a body the size of a mint's answer; no parsing, policy, storage or audit.
        let floorKey = Ed25519.SigningKey()
        let floorMessage = [UInt8](repeating: 0x61, count: 575)
        let floorPrefix = Array(#"{"token":""#.utf8) + [UInt8](repeating: 0x61, count: 800)
        bare.post("/signed") { request, _ in
            _ = try await request.body.collect(upTo: 64 * 1024)
            var body = floorPrefix
            floorKey.signature(for: floorMessage).withUnsafeBytes { Base64URL.encode($0, into: &body) }
            body.append(contentsOf: #""}"#.utf8)
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        // The durable floor: the same, with the signature's record stored durably by group commit before the
        // answer, as a mint's must be (``DurableFloor``).
        let durableFloor = try await DurableFloor(path: directory.appendingPathComponent("floor.db").path)
        bare.post("/durable") { request, _ in
            _ = try await request.body.collect(upTo: 64 * 1024)
            var body = floorPrefix
            try await durableFloor.mint().withUnsafeBytes { Base64URL.encode($0, into: &body) }
            body.append(contentsOf: #""}"#.utf8)
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        // The floor without its signature: the same body read and answer, to tell the signature's cost apart.
        bare.post("/unsigned") { request, _ in
            _ = try await request.body.collect(upTo: 64 * 1024)
            var body = floorPrefix
            body.append(contentsOf: [UInt8](repeating: 0x62, count: 86))
            body.append(contentsOf: #""}"#.utf8)
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        let bareApp = Application(
            router: bare, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let charterApp = CharterHTTPServer.application(
            controlPlane: controlPlane, configuration: ServerConfiguration(port: 0), logger: logger,
            onServerRunning: { port in portSink.yield(port) })

        print(
            "charter-bench http: wrk, \(connections) connections, 2 threads, \(rounds) rounds of \(seconds)s runs "
                + "(bare, bare POST, + 1 signature, + its durable record, /v1/me, /healthz, /v1/authorize 0.10 and 1.0, "
                + "back to back)"
        )
        var rows: [Round] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await bareApp.run() }
            group.addTask { try await controlPlane.store.withServices { try await charterApp.run() } }
            // The floor's store checkpoints beside it, as Charter's does.
            for service in durableFloor.store.services { group.addTask { try await service.run() } }
            var iterator = ports.makeAsyncIterator()
            let first = await iterator.next() ?? 0
            let second = await iterator.next() ?? 0
            // Tell the two apart: the bare app answers /bare.
            let barePort = try isBare(first) ? first : second
            let charterPort = barePort == first ? second : first
            for _ in 0..<rounds {
                let round = Round(
                    bare: try Wrk.run("http://127.0.0.1:\(barePort)/bare", seconds: seconds, connections: connections),
                    unsigned: try Wrk.run(
                        "http://127.0.0.1:\(barePort)/unsigned", script: authorizeScript, seconds: seconds,
                        connections: connections),
                    signed: try Wrk.run(
                        "http://127.0.0.1:\(barePort)/signed", script: authorizeScript, seconds: seconds,
                        connections: connections),
                    durable: try Wrk.run(
                        "http://127.0.0.1:\(barePort)/durable", script: authorizeScript, seconds: seconds,
                        connections: connections),
                    me: try Wrk.run(
                        "http://127.0.0.1:\(charterPort)/v1/me", header: "Authorization: Bearer \(owner.ownerKey)",
                        seconds: seconds, connections: connections),
                    health: try Wrk.run(
                        "http://127.0.0.1:\(charterPort)/healthz", seconds: seconds, connections: connections),
                    authorize: try Wrk.run(
                        "http://127.0.0.1:\(charterPort)/v1/authorize", script: authorizeScript, seconds: seconds,
                        connections: connections),
                    delegate: try Wrk.run(
                        "http://127.0.0.1:\(charterPort)/v1/authorize", script: delegationScript, seconds: seconds,
                        connections: connections))
                print(round)
                rows.append(round)
            }
            group.cancelAll()
        }
        let median = Round.median(of: rows)
        print("median round:")
        print("  bare Hummingbird route   \(median.bare)")
        print("  bare route, POST and answer \(median.unsigned)")
        print("  bare route + 1 signature \(median.signed)")
        print("  + its record, durably    \(median.durable)")
        print("  GET /v1/me (authed)      \(median.me)")
        print("  GET /healthz (no auth)   \(median.health)")
        print("  POST /v1/authorize       \(median.authorize)")
        print("  POST /v1/authorize, 1.0  \(median.delegate)")
        print(String(format: "libsodium sign (raw, 1 core): %9.0f signatures/s", signsPerSecond))
        print(String(format: "authenticate, warm cache: %.2f µs per call (in-process)", authCost))
        // Every mint answered 200 must have its audit record, written before the answer.
        let minted = try await controlPlane.store.auditChain(orgID: owner.organization.id, after: 0, limit: .max)
            .filter { $0.event.action == "token.mint" && $0.event.outcome == .success }.count
        let answered = rows.reduce(0) {
            $0 + $1.authorize.requests - $1.authorize.non2xx + $1.delegate.requests - $1.delegate.non2xx
        }
        print("mints audited: \(minted) records for \(answered) tokens answered (wrk counts only completed requests)")
        print(
            String(
                format:
                    "ratios (medians over rounds): me/bare=%.2f authorize/bare=%.2f signed/bare=%.2f "
                    + "authorize/signed=%.2f durable/signed=%.2f authorize/durable=%.2f authorize/raw_sign=%.2f "
                    + "authorize_p99_ms=%.2f p99s over signed's: authorize %.1f, durable %.1f auth_us=%.2f "
                    + "delegate/authorize=%.2f",
                Round.medianRatio(rows, \.me), Round.medianRatio(rows, \.authorize),
                Round.medianRatio(rows, \.signed), Round.medianRatio(rows, \.authorize, over: \.signed),
                Round.medianRatio(rows, \.durable, over: \.signed),
                Round.medianRatio(rows, \.authorize, over: \.durable),
                median.authorize.requestsPerSecond / signsPerSecond, median.authorize.p99Milliseconds,
                median.authorize.p99Milliseconds / median.signed.p99Milliseconds,
                median.durable.p99Milliseconds / median.signed.p99Milliseconds, authCost,
                Round.medianRatio(rows, \.delegate, over: \.authorize)))
    }

    /// One run of each route, back to back, so each ratio compares runs that shared the machine's conditions.
    private struct Round: CustomStringConvertible {
        let bare: WrkResult
        /// The floor route without its signature.
        let unsigned: WrkResult
        let signed: WrkResult
        /// The floor route with its record stored durably by group commit.
        let durable: WrkResult
        let me: WrkResult
        let health: WrkResult
        let authorize: WrkResult
        /// `/v1/authorize` minting a UCAN 1.0 delegation.
        let delegate: WrkResult

        var description: String {
            String(
                format:
                    "round: bare %6.0f  signed %6.0f (%.2f)  durable %6.0f (%.2f)  me %6.0f (%.2f)  "
                    + "healthz %6.0f (%.2f)  authorize %5.0f (%.2f, p99 %.1f ms)  1.0 %5.0f (%.2f of 0.10)",
                bare.requestsPerSecond, signed.requestsPerSecond, signed.requestsPerSecond / bare.requestsPerSecond,
                durable.requestsPerSecond, durable.requestsPerSecond / bare.requestsPerSecond,
                me.requestsPerSecond, me.requestsPerSecond / bare.requestsPerSecond,
                health.requestsPerSecond, health.requestsPerSecond / bare.requestsPerSecond,
                authorize.requestsPerSecond, authorize.requestsPerSecond / bare.requestsPerSecond,
                authorize.p99Milliseconds, delegate.requestsPerSecond,
                delegate.requestsPerSecond / authorize.requestsPerSecond)
        }

        /// The median of `route`'s throughput over `baseline`'s (the bare route's), round by round.
        static func medianRatio(
            _ rounds: [Round], _ route: KeyPath<Round, WrkResult>, over baseline: KeyPath<Round, WrkResult> = \.bare
        ) -> Double {
            let ratios = rounds.map { $0.ratio(route, over: baseline) }.sorted()
            return ratios[ratios.count / 2]
        }

        /// The round whose `/v1/me` ratio is the median one, for its absolute figures.
        static func median(of rounds: [Round]) -> Round {
            rounds.sorted { $0.ratio(\.me) < $1.ratio(\.me) }[rounds.count / 2]
        }

        func ratio(_ route: KeyPath<Round, WrkResult>, over baseline: KeyPath<Round, WrkResult> = \.bare) -> Double {
            self[keyPath: route].requestsPerSecond / self[keyPath: baseline].requestsPerSecond
        }
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
            best = max(best, Double(count) / (clock.now - start).inSeconds)
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
            best = min(best, (clock.now - start).inSeconds * 1e6 / Double(count))
        }
        return best
    }

    private func isBare(_ port: Int) throws -> Bool {
        let result = try Wrk.run("http://127.0.0.1:\(port)/bare", seconds: 1, connections: 1)
        return result.non2xx == 0
    }
}
