import CharterCore
import CharterPostgres
import CharterServer
import Foundation
import Hummingbird
import Logging
import UCAN

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `charter-bench replicas`: `/v1/authorize` on SQLite, on PostgreSQL with one replica and with two replicas
/// sharing the database, all in one run; then the time from a key revocation on replica A to the first
/// refusal by replica B, over 100 trials.
///
/// Needs a PostgreSQL server: `make bench-replicas` starts one (scripts/postgres.sh) and passes its URL in
/// `CHARTER_TEST_POSTGRES_URL`.
struct ReplicaBenchmark {
    let seconds: Int
    let connections = 64
    let trials = 100

    func run() async throws {
        guard let text = ProcessInfo.processInfo.environment["CHARTER_TEST_POSTGRES_URL"] else {
            print("charter-bench replicas needs PostgreSQL: run it with `make bench-replicas`")
            exit(2)
        }
        let url = try PostgresURL(text)
        let logger = BenchCharter.logger(.error)
        let masterKey = SecretBox.Key()

        let sqlite = try await BenchCharter()
        defer { sqlite.remove() }
        let sqliteScript = try await BenchCharter.authorizeScript(
            sqlite.controlPlane, owner: sqlite.owner, in: sqlite.directory)

        let storeA = try await PostgresStore.connect(url: url, logger: logger)
        let storeB = try await PostgresStore.connect(url: url, logger: logger)
        var runs: [String: [WrkResult]] = [:]
        var latencies: [Double] = []
        var staleAnswers = 0
        try await storeA.withServices {
            try await storeB.withServices {
                try await storeA.migrate()
                let replicaA = ControlPlane(store: storeA, masterKey: masterKey)
                let replicaB = ControlPlane(store: storeB, masterKey: masterKey)
                let owner = try await Setup(store: storeA, clock: .system).createOrganization(name: "bench")
                let postgresScript = try await BenchCharter.authorizeScript(
                    replicaA, owner: owner, in: sqlite.directory, name: "authorize-postgres")

                print(
                    "charter-bench replicas: wrk, \(connections) connections in all, \(seconds)s per run, 2 runs each, interleaved"
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for service in sqlite.controlPlane.store.services { group.addTask { try await service.run() } }
                    var ports: [Int] = []
                    for controlPlane in [sqlite.controlPlane, replicaA, replicaB] {
                        let (port, sink) = AsyncStream.makeStream(of: Int.self)
                        let app = CharterHTTPServer.application(
                            controlPlane: controlPlane, configuration: ServerConfiguration(port: 0), logger: logger,
                            onServerRunning: { sink.yield($0) })
                        group.addTask { try await app.run() }
                        var iterator = port.makeAsyncIterator()
                        ports.append(await iterator.next() ?? 0)
                    }
                    let (sqlitePort, portA, portB) = (ports[0], ports[1], ports[2])
                    // Warm up, unmeasured: the first seconds under load otherwise include opening each replica's
                    // pool of PostgreSQL connections (TLS and SCRAM each), which set the first run's p99.
                    for (port, script) in [
                        (sqlitePort, sqliteScript), (portA, postgresScript), (portB, postgresScript),
                    ] {
                        _ = try Wrk.run(
                            "http://127.0.0.1:\(port)/v1/authorize", script: script, seconds: 2,
                            connections: connections)
                    }
                    for _ in 0..<2 {
                        runs["sqlite", default: []].append(
                            try Wrk.run(
                                "http://127.0.0.1:\(sqlitePort)/v1/authorize", script: sqliteScript, seconds: seconds,
                                connections: connections))
                        runs["postgres-1", default: []].append(
                            try Wrk.run(
                                "http://127.0.0.1:\(portA)/v1/authorize", script: postgresScript, seconds: seconds,
                                connections: connections))
                        let both = try [portA, portB].map {
                            try Wrk.start(
                                "http://127.0.0.1:\($0)/v1/authorize", script: postgresScript, seconds: seconds,
                                connections: connections / 2)
                        }
                        runs["postgres-2", default: []].append(WrkResult(combining: try both.map(Wrk.wait)))
                    }
                    (latencies, staleAnswers) = try await revocationLatencies(owner: owner, a: portA, b: portB)
                    group.cancelAll()
                }
            }
        }

        func best(_ name: String) -> WrkResult { runs[name]!.max { $0.requestsPerSecond < $1.requestsPerSecond }! }
        for name in ["sqlite", "postgres-1", "postgres-2"] {
            for run in runs[name]! { print("run: \(name.padding(toLength: 12, withPad: " ", startingAt: 0)) \(run)") }
        }
        print("best runs:")
        print("SQLite, one server        \(best("sqlite"))")
        print("PostgreSQL, one replica   \(best("postgres-1"))")
        print("PostgreSQL, two replicas  \(best("postgres-2"))")
        for name in runs.keys.sorted() where runs[name]!.contains(where: { $0.non2xx > 0 }) {
            print("warning: \(name) answered some requests with an error; its figure does not count")
        }
        // On two shared cores, a CPU-bound run's rate is the cores over all the CPU a request takes, wherever it is
        // spent: PostgreSQL's processes compete with the server and wrk for the same cores.
        func cpuPerRequest(_ run: WrkResult) -> Double {
            (run.serverMicros ?? 0) + (run.clientMicros ?? 0) + (run.databaseMicros ?? 0)
        }
        let (sqliteCPU, postgresCPU) = (cpuPerRequest(best("sqlite")), cpuPerRequest(best("postgres-1")))
        print(
            String(
                format:
                    "CPU per mint, all processes: SQLite %.1f µs, PostgreSQL with one replica %.1f µs "
                    + "(of which PostgreSQL's own %.1f µs): postgres1/sqlite at most %.2f while both are CPU-bound",
                sqliteCPU, postgresCPU, best("postgres-1").databaseMicros ?? 0, sqliteCPU / postgresCPU))
        latencies.sort()
        let p50 = latencies[latencies.count / 2]
        let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        print(
            String(
                format: "revoke on A -> refused by B: p50 %.2f ms, p99 %.2f ms, max %.2f ms over %d trials",
                p50, p99, latencies.last ?? 0, latencies.count))
        print("requests B answered as valid after A's revoke returned: \(staleAnswers)")
        print(
            String(
                format:
                    "ratios: postgres1/sqlite=%.2f postgres2/sqlite=%.2f postgres2/postgres1=%.2f revoke_p99_ms=%.2f",
                best("postgres-1").requestsPerSecond / best("sqlite").requestsPerSecond,
                best("postgres-2").requestsPerSecond / best("sqlite").requestsPerSecond,
                best("postgres-2").requestsPerSecond / best("postgres-1").requestsPerSecond, p99))
    }

    /// For each trial: a new key is used on B (so B caches it), revoked through A, then asked for on B until B
    /// refuses it. Returns the milliseconds from sending the revocation to B's refusal, and how many times B
    /// still accepted the key after A had answered.
    private func revocationLatencies(owner: Setup.Created, a: Int, b: Int) async throws -> ([Double], Int) {
        let clock = ContinuousClock()
        var latencies: [Double] = []
        var stale = 0
        for trial in 0..<trials {
            let created = try await Self.request(
                a, "POST", "/v1/keys", key: owner.ownerKey,
                json: #"{"app_id":"\#(owner.app.id)","label":"revoke-\#(trial)","role":"member"}"#)
            guard let body = try? JSONParser.parse(created.body), case .object(let object) = body,
                case .string(let secret) = object["key"], case .object(let record) = object["api_key"],
                case .string(let id) = record["id"]
            else { throw BenchError("could not create a key: \(created.status)") }
            guard try await Self.request(b, "GET", "/v1/me", key: secret).status == 200 else {
                throw BenchError("B refused a fresh key")
            }
            let start = clock.now
            let revoked = try await Self.request(a, "POST", "/v1/keys/\(id)/revoke", key: owner.ownerKey, json: "{}")
            guard revoked.status == 200 else { throw BenchError("revoke answered \(revoked.status)") }
            while try await Self.request(b, "GET", "/v1/me", key: secret).status == 200 { stale += 1 }
            latencies.append((clock.now - start).inSeconds * 1000)
        }
        return (latencies, stale)
    }

    private static func request(_ port: Int, _ method: String, _ path: String, key: String, json: String? = nil)
        async throws -> (status: Int, body: [UInt8])
    {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
