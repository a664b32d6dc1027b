import CharterCore
import Hummingbird
import Metrics
import Synchronization

/// Counts requests and times them per route, method and status (`http_requests_total`,
/// `http_request_duration_seconds`), creating each metric once rather than on every request.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = CharterRequestContext

    private struct Key: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private final class Handles: Sendable {
        let metrics = Mutex<[Key: (requests: Counter, duration: Timer)]>([:])

        func get(_ key: Key) -> (requests: Counter, duration: Timer) {
            metrics.withLock { metrics in
                if let existing = metrics[key] { return existing }
                let dimensions = [("method", key.method), ("route", key.route), ("status", String(key.status))]
                let created = (
                    Counter(label: "http_requests_total", dimensions: dimensions),
                    Timer(
                        label: "http_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
                )
                metrics[key] = created
                return created
            }
        }
    }

    private let handles = Handles()

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        // Unmatched paths share one label so a scanner cannot create unbounded series.
        let route = context.endpointPath ?? "unmatched"
        let metrics = handles.get(Key(method: request.method.rawValue, route: route, status: response.status.code))
        metrics.requests.increment()
        metrics.duration.record(duration: ContinuousClock.now - start)
        return response
    }
}
