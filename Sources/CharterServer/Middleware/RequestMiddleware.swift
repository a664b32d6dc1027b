import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Synchronization

/// What every request goes through, in one hop (each middleware is an async frame and a copy of the context,
/// which `charter-bench http` measures):
///
/// - an id: the client's `X-Request-ID` when it is sane, else a new one; echoed in the response, written into
///   audit records, and logged as `request_id` with any error;
/// - the client address, believing `X-Forwarded-For` only from trusted proxies;
/// - the JSON error shape for every error, where anything unexpected becomes a 500 that says nothing about
///   its cause (logged by type only, never with request data);
/// - metrics per route, method and status (`http_requests_total`, `http_request_duration_seconds`).
struct RequestMiddleware: RouterMiddleware {
    typealias Context = CharterRequestContext

    static let requestID = HTTPField.Name("X-Request-ID")!
    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    let trustedProxies: [CIDR]
    private let metrics = MetricHandles()

    init(trustedProxies: [CIDR]) {
        self.trustedProxies = trustedProxies
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        context.requestID = request.headers[Self.requestID].flatMap(Self.sanitized) ?? RequestIdentifier.next()
        if !trustedProxies.isEmpty, request.headers[Self.forwardedFor] != nil {
            context.forwardedClient = clientAddress(request, peer: context.peer)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = Self.response(for: error, request: request, context: context)
        }
        // Unmatched paths share one label so a scanner cannot create unbounded series.
        metrics.record(
            method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: response.status.code,
            duration: ContinuousClock.now - start)
        response.headers[Self.requestID] = context.requestID
        return response
    }

    // MARK: Errors

    private static func response(for error: any Error, request: Request, context: Context) -> Response {
        switch error {
        case let error as CharterError:
            if error.code == .internalError || error.code == .unavailable {
                context.logger.error(
                    "request failed", metadata: ["code": "\(error.code)", "request_id": "\(context.requestID)"])
            }
            return error.response(from: request, context: context)
        case let error as HTTPRefusal:
            return error.response(from: request, context: context)
        case let error as any HTTPResponseError:
            // Hummingbird's own: an unknown route, or a body that could not be read.
            return translated(error.status, request: request, context: context)
        default:
            context.logger.error(
                "unexpected error", metadata: ["type": "\(type(of: error))", "request_id": "\(context.requestID)"])
            return CharterError(.internalError, "internal error").response(from: request, context: context)
        }
    }

    private static func translated(_ status: HTTPResponse.Status, request: Request, context: Context) -> Response {
        switch status {
        case .notFound:
            // A known path asked with a method it does not take is a 405 naming the ones it does.
            guard let allowed = Endpoint.methods(for: request.uri.path) else {
                return CharterError(.notFound, "no such endpoint").response(from: request, context: context)
            }
            return HTTPRefusal(
                code: .methodNotAllowed, message: "\(request.method) is not allowed here; use \(allowed)",
                allow: allowed
            ).response(from: request, context: context)
        case .contentTooLarge:
            return HTTPRefusal.payloadTooLarge(limit: JSONBody.maxBytes).response(from: request, context: context)
        case .badRequest:
            return CharterError(.validationFailed, "the request could not be read").response(
                from: request, context: context)
        default:
            return CharterError(.internalError, "internal error").response(from: request, context: context)
        }
    }

    // MARK: Request id and client address

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

/// The request metrics, each (method, route, status) series created once rather than on every request.
private final class MetricHandles: Sendable {
    private struct Key: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private let handles = Mutex<[Key: (requests: Counter, duration: Timer)]>([:])

    func record(method: String, route: String, status: Int, duration: Duration) {
        let key = Key(method: method, route: route, status: status)
        let metrics = handles.withLock { handles in
            if let existing = handles[key] { return existing }
            let dimensions = [("method", method), ("route", route), ("status", String(status))]
            let created = (
                Counter(label: "http_requests_total", dimensions: dimensions),
                Timer(label: "http_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
            )
            handles[key] = created
            return created
        }
        metrics.requests.increment()
        metrics.duration.record(duration: duration)
    }
}
