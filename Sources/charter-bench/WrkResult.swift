import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The figures of one wrk run: throughput, latency percentiles, and responses that were not 2xx.
struct WrkResult: CustomStringConvertible {
    let requestsPerSecond: Double
    let p50Milliseconds: Double
    let p99Milliseconds: Double
    let non2xx: Int
    /// Responses received in the whole run.
    let requests: Int
    /// CPU time per response (user and system) of this process, the server, and of wrk, in µs; nil when the run
    /// shared the process with others.
    var serverMicros: Double?
    var clientMicros: Double?
    /// The same for the database server's processes, when the run used one.
    var databaseMicros: Double?

    init(parsing output: String) throws {
        func value(after label: String) -> String? {
            output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }
                .flatMap {
                    $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(
                        label.split(separator: " ").count
                    ).first
                }
                .map(String.init)
        }
        guard let rps = value(after: "Requests/sec:").flatMap(Double.init),
            let p50 = value(after: "50%").flatMap(Self.milliseconds),
            let p99 = value(after: "99%").flatMap(Self.milliseconds)
        else { throw WrkError(output: output) }
        requestsPerSecond = rps
        p50Milliseconds = p50
        p99Milliseconds = p99
        non2xx = value(after: "Non-2xx or 3xx responses:").flatMap(Int.init) ?? 0
        // "  123456 requests in 10.00s, 12.34MB read"
        requests =
            output.split(separator: "\n").first { $0.contains(" requests in ") }
            .flatMap { $0.split(separator: " ").first }.flatMap { Int($0) } ?? 0
    }

    /// Several runs at once against several servers, as one: throughput and counts add up; the latencies
    /// are the worst run's, so the figure never flatters.
    init(combining runs: [WrkResult]) {
        requestsPerSecond = runs.reduce(0) { $0 + $1.requestsPerSecond }
        p50Milliseconds = runs.map(\.p50Milliseconds).max() ?? 0
        p99Milliseconds = runs.map(\.p99Milliseconds).max() ?? 0
        non2xx = runs.reduce(0) { $0 + $1.non2xx }
        requests = runs.reduce(0) { $0 + $1.requests }
    }

    /// wrk prints `812.00us`, `1.23ms` or `2.01s`.
    private static func milliseconds(_ text: String) -> Double? {
        for (suffix, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * scale }
        }
        return nil
    }

    var description: String {
        String(
            format: "%9.0f req/s   p50 %6.2f ms   p99 %6.2f ms   non-2xx %d", requestsPerSecond, p50Milliseconds,
            p99Milliseconds, non2xx)
            + (serverMicros.map { String(format: "   CPU/request: server %5.1f µs", $0) } ?? "")
            + (clientMicros.map { String(format: ", wrk %4.1f µs", $0) } ?? "")
            + (databaseMicros.map { String(format: ", PostgreSQL %5.1f µs", $0) } ?? "")
    }
}

struct WrkError: Error, CustomStringConvertible {
    let output: String
    var description: String { "could not read wrk's output:\n\(output)" }
}

/// Runs wrk (from Debian's package) against one URL on loopback.
enum Wrk {
    /// - Parameters:
    ///   - header: one extra request header, `Name: value`.
    ///   - script: a Lua file setting the method, body and headers.
    static func run(
        _ url: String, header: String? = nil, script: String? = nil, seconds: Int, connections: Int
    ) throws -> WrkResult {
        let (server, client, database) = (cpuSeconds(RUSAGE_SELF), cpuSeconds(RUSAGE_CHILDREN), postgresCPUSeconds())
        var result = try wait(start(url, header: header, script: script, seconds: seconds, connections: connections))
        let responses = Double(max(result.requests, 1))
        result.serverMicros = (cpuSeconds(RUSAGE_SELF) - server) * 1e6 / responses
        result.clientMicros = (cpuSeconds(RUSAGE_CHILDREN) - client) * 1e6 / responses
        let databaseSeconds = postgresCPUSeconds() - database
        if databaseSeconds > 0 { result.databaseMicros = databaseSeconds * 1e6 / responses }
        return result
    }

    /// CPU time (user and system) used so far by every running process named `postgres` (the server and its
    /// backends) and by the backends they have reaped, from `/proc`, to the kernel's clock tick (10 ms): enough over
    /// a run of thousands of requests.
    static func postgresCPUSeconds() -> Double {
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var ticks = 0
        for pid in processes where pid.allSatisfy(\.isNumber) {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                stat[stat.index(after: open)..<close] == "postgres"
            else { continue }
            // After the name: state is field 3; utime, stime, cutime and cstime are fields 14 to 17 (man 5 proc).
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            ticks += fields[11...14].reduce(0) { $0 + (Int($1) ?? 0) }
        }
        return Double(ticks) / ticksPerSecond
    }

    /// CPU time (user and system) used so far by this process, or by its children that have been waited for.
    static func cpuSeconds(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(who.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Starts wrk without waiting, so several can load several servers at once.
    static func start(
        _ url: String, header: String? = nil, script: String? = nil, seconds: Int, connections: Int
    ) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        var arguments = [
            "-t", String(min(2, connections)), "-c", String(connections), "-d", "\(seconds)s", "--latency",
        ]
        if let header { arguments += ["-H", header] }
        if let script { arguments += ["-s", script] }
        process.arguments = arguments + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        return (process, pipe)
    }

    static func wait(_ started: (Process, Pipe)) throws -> WrkResult {
        let output = String(decoding: started.1.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        started.0.waitUntilExit()
        return try WrkResult(parsing: output)
    }
}
