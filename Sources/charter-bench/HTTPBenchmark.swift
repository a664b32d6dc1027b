import CharterCore
import CharterSQLite
import CharterServer
import Foundation
import Hummingbird
import Logging

/// `charter-bench http`: authenticated `GET /v1/me` beside a bare Hummingbird route, both on loopback
/// under wrk in the same run, plus the in-process cost of authenticating a key on a warm cache.
struct HTTPBenchmark {
    let seconds: Int
    let connections = 64

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "charter-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("bench.db").path)
        let owner = try await Setup(store: store, clock: .system).initialize()!
        let controlPlane = ControlPlane(store: store)
        var logger = Logger(label: "bench")
        logger.logLevel = .error

        let authCost = try await authenticationCost(controlPlane, key: owner.ownerKey)

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
                bareRuns.append(try wrk("http://127.0.0.1:\(barePort)/bare", header: nil))
                meRuns.append(
                    try wrk("http://127.0.0.1:\(charterPort)/v1/me", header: "Authorization: Bearer \(owner.ownerKey)"))
                healthRuns.append(try wrk("http://127.0.0.1:\(charterPort)/healthz", header: nil))
            }
            group.cancelAll()
        }
        let bareBest = bareRuns.max { $0.requestsPerSecond < $1.requestsPerSecond }!
        let meBest = meRuns.max { $0.requestsPerSecond < $1.requestsPerSecond }!
        print("bare Hummingbird route   \(bareBest)")
        print("GET /v1/me (authed)      \(meBest)")
        let healthBest = healthRuns.max { $0.requestsPerSecond < $1.requestsPerSecond }!
        print("GET /healthz (no auth)   \(healthBest)")
        print(String(format: "authenticate, warm cache: %.2f µs per call (in-process)", authCost))
        print(
            String(
                format: "ratios: me/bare=%.2f auth_us=%.2f", meBest.requestsPerSecond / bareBest.requestsPerSecond,
                authCost))
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
        let result = try wrk("http://127.0.0.1:\(port)/bare", header: nil, duration: "1s", connections: 1)
        return result.non2xx == 0
    }

    private func wrk(_ url: String, header: String?, duration: String? = nil, connections: Int? = nil) throws
        -> WrkResult
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        let connections = connections ?? self.connections
        var arguments = [
            "-t", String(min(2, connections)), "-c", String(connections), "-d", duration ?? "\(seconds)s", "--latency",
        ]
        if let header { arguments += ["-H", header] }
        process.arguments = arguments + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return try WrkResult(parsing: output)
    }
}
