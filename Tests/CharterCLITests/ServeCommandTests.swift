import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `charter init`, `charter serve` and `charter audit verify` as an operator runs them: real
/// processes, a real SQLite file, HTTP on loopback.
@Suite(.serialized) struct ServeCommandTests {
    static func temporaryDatabase() throws -> (directory: URL, url: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "charter-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory, "sqlite:" + directory.appendingPathComponent("charter.db").path)
    }

    @Test func initPrintsTheOwnerKeyOnceAndIsIdempotent() throws {
        let (directory, database) = try Self.temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try CLI.run("init", "--database", database, "--json")
        #expect(first.status == 0, "\(first.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: String])
        #expect(Set(object.keys) == ["org_id", "app_id", "key_id", "key"])
        let key = try #require(object["key"])
        #expect(key.hasPrefix("chr_live_"))
        let again = try CLI.run("init", "--database", database)
        #expect(again.status == 0)
        #expect(again.stdout.contains("already initialized"))
        #expect(!again.stdout.contains(key))
        let verify = try CLI.run("audit", "verify", "--database", database)
        #expect(verify.status == 0)
        #expect(verify.stdout.contains("3 records verified"))
    }

    @Test func serveInitializesAnswersAndShutsDownGracefully() async throws {
        let (directory, database) = try Self.temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess(database: database)
        defer { server.stop() }
        let key = try #require(server.ownerKey)
        let (status, body) = try await server.get("/v1/me", key: key)
        #expect(status == 200)
        #expect(body.contains("\"role\":\"owner\""))
        #expect(try await server.get("/healthz", key: nil).status == 200)
        let metrics = try await server.get("/metrics", key: nil)
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("http_requests_total"))
        #expect(try await server.get("/v1/me", key: key + "x").status == 401)
        let exit = server.stop()
        #expect(exit == 0, "SIGTERM shuts down cleanly")
        #expect(
            server.output.components(separatedBy: key).count == 2,
            "the owner key is printed once, at initialization, and never logged")
        let logLines = server.output.split(separator: "\n").filter { $0.hasPrefix("{") }
        #expect(!logLines.isEmpty, "the server logs one JSON object per line")
        for line in logLines {
            let fields = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(fields?["level"] is String && fields?["message"] is String && fields?["time"] is String, "\(line)")
        }
        let verify = try CLI.run("audit", "verify", "--database", database)
        #expect(verify.status == 0, "\(verify.stderr)")
    }

    @Test func auditVerifyReportsTheFirstTamperedRecord() throws {
        let (directory, database) = try Self.temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try CLI.run("init", "--database", database).status == 0)
        let path = String(database.dropFirst("sqlite:".count))
        let sqlite = try Spawned(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"update audit_records set action='tampered' where seq=(select min(seq)+1 from audit_records)\"); c.commit()",
                path,
            ], environment: ProcessInfo.processInfo.environment)
        #expect(sqlite.wait().status == 0)
        let verify = try CLI.run("audit", "verify", "--database", database)
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("is broken at record 2"))
    }
}

/// `charter serve` on a free port, its output captured.
final class ServerProcess: @unchecked Sendable {
    // `captured` is appended by the reader thread under the lock; the rest is set once, in init.
    private let process: Spawned
    private let lock = NSLock()
    private var captured = Data()
    private(set) var port = 0

    var output: String { lock.withLock { String(decoding: captured, as: UTF8.self) } }

    /// The owner key printed at first start.
    var ownerKey: String? {
        output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first {
            $0.hasPrefix("chr_live_")
        }
    }

    /// Starts `charter serve`, with `environment` added to this process's own (minus any inherited
    /// `CHARTER_MASTER_KEY`, so only a test that means to use one does).
    /// - Throws: ``ServerDidNotStart`` when it exits or stays silent instead of listening.
    init(database: String, environment: [String: String] = [:], arguments: [String] = []) throws {
        var inherited = ProcessInfo.processInfo.environment
        inherited["CHARTER_MASTER_KEY"] = nil
        let capture = Capture()
        process = try Spawned(
            CLI.executable.path, ["serve", "--database", database, "--port", "0"] + arguments,
            environment: inherited.merging(environment) { $1 }, mergeErrors: true,
            onOutput: { data in capture.append(data) })
        capture.server = self
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("charter listening on http://") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                self.port = port
                return
            }
            if !process.isRunning {
                process.wait()  // the reader has taken the last output
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ServerDidNotStart(output: output)
    }

    /// Hands output that arrives before `init` finishes, and after, to the server's buffer.
    private final class Capture: @unchecked Sendable {
        // Guarded by the server's lock once `server` is set; until then by its own.
        private let lock = NSLock()
        private var early = Data()
        weak var server: ServerProcess? {
            didSet {
                lock.withLock {
                    server?.append(early)
                    early = Data()
                }
            }
        }

        func append(_ data: Data) {
            lock.withLock {
                if let server { server.append(data) } else { early.append(data) }
            }
        }
    }

    fileprivate func append(_ data: Data) { lock.withLock { captured.append(data) } }

    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        return process.wait().status ?? -1
    }

    func get(_ path: String, key: String?) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        if let key { request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// POSTs a JSON object, authenticated by `key`.
    func post(_ path: String, key: String, json: [String: Any]) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

extension ServerProcess {
    /// A dashboard answer: where it redirects, and the session cookie it sets, if any.
    struct Page {
        let status: Int
        let location: String?
        let session: String?
        let body: String

        /// The CSRF token the page's forms carry.
        var csrf: String? {
            guard let start = body.range(of: #"name="csrf" value=""#)?.upperBound,
                let end = body[start...].firstIndex(of: "\"")
            else { return nil }
            return String(body[start..<end])
        }
    }

    /// Loads a dashboard page, or posts `form` to it, as a browser on this server's own pages would: same-origin,
    /// with the `session` cookie, never following a redirect.
    func dashboard(_ path: String, session: String? = nil, form: [String: String]? = nil) async throws -> Page {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpShouldHandleCookies = false
        if let session { request.setValue("charter_session=\(session)", forHTTPHeaderField: "Cookie") }
        if let form {
            request.httpMethod = "POST"
            request.setValue("http://127.0.0.1:\(port)", forHTTPHeaderField: "Origin")
            request.setValue("same-origin", forHTTPHeaderField: "Sec-Fetch-Site")
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            var query = URLComponents()
            query.queryItems = form.map { URLQueryItem(name: $0.key, value: $0.value) }
            request.httpBody = Data((query.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B").utf8)
        }
        let (data, response) = try await Self.browser.data(for: request)
        let http = response as? HTTPURLResponse
        let cookie = (http?.value(forHTTPHeaderField: "Set-Cookie") ?? "").split(separator: ";").first
        let session = cookie.flatMap { $0.hasPrefix("charter_session=") ? String($0.dropFirst(16)) : nil }
        return Page(
            status: http?.statusCode ?? 0, location: http?.value(forHTTPHeaderField: "Location"), session: session,
            body: String(decoding: data, as: UTF8.self))
    }

    /// A session that keeps no cookies and follows no redirect, so a test sees each answer as it was sent.
    private static let browser = URLSession(
        configuration: .ephemeral, delegate: NoRedirects(), delegateQueue: nil)

    private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }
    }
}

struct ServerDidNotStart: Error, CustomStringConvertible {
    let output: String
    var description: String { "charter serve did not report its port:\n\(output)" }
}
