import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Slow clients against a live server with short request deadlines: a head or a body dribbled a byte at a
/// time is cut off, while a whole request, and a kept-alive connection between requests, are not.
@Suite struct RequestDeadlineTests {
    static let milliseconds: Int64 = 250
    static let deadline = Duration.milliseconds(milliseconds)
    static let head = "POST /dashboard/sign-in HTTP/1.1\r\nHost: localhost\r\n"
    static let form = "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"

    /// Sends one byte of `pattern` every 25 ms until the server closes the connection or 10 s have passed (far
    /// past the 250 ms deadline, so a loaded machine running the whole suite cannot make it fail spuriously);
    /// returns how long the connection stayed open, nil when it never closed.
    static func dribble(_ connection: RawConnection, _ pattern: String) async throws -> Duration? {
        let bytes = Array(pattern.utf8)
        let start = ContinuousClock.now
        var sent = 0
        while ContinuousClock.now - start < .seconds(10) {
            if connection.isClosed() { return ContinuousClock.now - start }
            _ = connection.send([bytes[sent % bytes.count]])
            sent += 1
            try await Task.sleep(for: .milliseconds(25))
        }
        return nil
    }

    @Test func aBodySentAByteAtATimeIsCutOff() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run(adjusting: { $0.requestBodyTimeout = .milliseconds(Self.milliseconds) }) { client in
            let connection = try RawConnection(port: try #require(client.client.port))
            #expect(connection.send(Array((Self.head + Self.form).utf8)))
            let open = try await Self.dribble(connection, "key=")
            #expect(open != nil, "the connection was still open after 10 s")
            #expect(try await client.get("/healthz", key: nil).status == .ok, "other clients are still served")
        }
    }

    @Test func aHeadSentAByteAtATimeIsCutOff() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run(adjusting: { $0.requestHeadTimeout = .milliseconds(Self.milliseconds) }) { client in
            let connection = try RawConnection(port: try #require(client.client.port))
            #expect(connection.send(Array(Self.head.utf8)))
            let open = try await Self.dribble(connection, "X-Slow: y\r\n")
            #expect(open != nil, "the connection was still open after 10 s")
        }
    }

    @Test func wholeRequestsAndTheGapsBetweenThemAreNotCutOff() async throws {
        let server = try await TestServer()
        defer { server.removeFiles() }
        try await server.run(adjusting: { $0.requestBodyTimeout = .milliseconds(Self.milliseconds) }) { client in
            let connection = try RawConnection(port: try #require(client.client.port))
            let body = "key=chr_live_not_a_key"
            let request =
                Self.head + "Content-Type: application/x-www-form-urlencoded\r\n"
                + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
            #expect(connection.send(Array(request.utf8)))
            #expect(try await connection.response().hasPrefix("HTTP/1.1 401"))
            // Longer than the body deadline, which runs only while a body is arriving.
            try await Task.sleep(for: Self.deadline * 2)
            #expect(connection.send(Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)))
            #expect(try await connection.response().hasPrefix("HTTP/1.1 200"))
        }
    }
}

/// A bare, non-blocking TCP connection to the loopback server, for sending a request as slowly as an attacker
/// would.
final class RawConnection {
    private let socket: Int32
    private var received: [UInt8] = []

    init(port: Int) throws {
        #if canImport(Glibc)
            socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            socket = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socket >= 0 else { throw TestFailure("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socket)
            throw TestFailure("connect() failed")
        }
        // Connected (at once, on loopback) before reads stop blocking, so no test thread ever waits in recv.
        _ = fcntl(socket, F_SETFL, fcntl(socket, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(socket) }

    /// Sends `bytes`; false when the server has closed the connection.
    func send(_ bytes: [UInt8]) -> Bool {
        #if canImport(Glibc)
            let flags = Int32(MSG_NOSIGNAL)
        #else
            let flags: Int32 = 0
        #endif
        return bytes.withUnsafeBytes { raw in
            #if canImport(Glibc)
                Glibc.send(socket, raw.baseAddress, raw.count, flags) == raw.count
            #else
                Darwin.send(socket, raw.baseAddress, raw.count, flags) == raw.count
            #endif
        }
    }

    /// Whether the server has closed the connection (end of file or reset); anything it sent is kept.
    func isClosed() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket, &buffer, buffer.count, 0)
        if count > 0 {
            received += buffer.prefix(count)
            return false
        }
        return count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// The next response's head and body, waited for up to 1 s.
    func response() async throws -> String {
        for _ in 0..<100 {
            let closed = isClosed()
            let text = String(decoding: received, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") {
                let length =
                    text[..<end.lowerBound].split(separator: "\r\n")
                    .first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                let bodyBytes = text[end.upperBound...].utf8.count
                if bodyBytes >= length {
                    received.removeAll()
                    return text
                }
            }
            if closed { throw TestFailure("the server closed the connection") }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("no response within 1 s")
    }
}
