import CharterCore
import Foundation
import HTTPTypes
import Hummingbird

/// Gives every request an id (the client's `X-Request-ID` when it is sane), echoes it in the
/// response, and settles the client address, believing `X-Forwarded-For` only from trusted proxies.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = CharterRequestContext

    static let header = HTTPField.Name("X-Request-ID")!
    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    let trustedProxies: [CIDR]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        // Hummingbird already gives each request a unique id (logged as hb.request.id); reuse it.
        context.requestID = request.headers[Self.header].flatMap(Self.sanitized) ?? context.id
        if !trustedProxies.isEmpty, request.headers[Self.forwardedFor] != nil {
            context.forwardedClient = clientAddress(request, peer: context.peer)
        }
        var response = try await next(request, context)
        response.headers[Self.header] = context.requestID
        return response
    }

    /// Accepts 1–64 characters of `[A-Za-z0-9._-]`, so a header can never inject into logs.
    private static func sanitized(_ value: String) -> String? {
        guard (1...64).contains(value.utf8.count),
            value.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            })
        else { return nil }
        return value
    }

    /// Walks `X-Forwarded-For` from the right while the hop is a trusted proxy; the first untrusted
    /// address is the client. Without a trusted peer the header is ignored entirely.
    private func clientAddress(_ request: Request, peer: IPAddress?) -> IPAddress? {
        guard var client = peer, isTrusted(client), let header = request.headers[Self.forwardedFor] else { return peer }
        for hop in header.split(separator: ",").reversed() {
            guard let address = IPAddress(hop.trimmingCharacters(in: .whitespaces)) else { return client }
            client = address
            if !isTrusted(address) { break }
        }
        return client
    }

    private func isTrusted(_ address: IPAddress) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
