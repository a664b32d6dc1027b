import CharterCore
import Hummingbird
import Logging

/// Turns every error into the JSON error shape; anything unexpected becomes a 500 that says
/// nothing about its cause (which is logged by type only, never with request data).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = CharterRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as CharterError {
            if error.code == .internalError || error.code == .unavailable {
                context.logger.error("request failed", metadata: ["code": "\(error.code)"])
            }
            return JSONResponse.error(error, requestID: context.requestID)
        } catch let error as any HTTPResponseError {
            // A known path asked with a method it does not take is a 405 naming the ones it does.
            if error.status == .notFound, let allowed = Endpoint.methods(for: request.uri.path) {
                var response = JSONResponse.error(
                    CharterError(.methodNotAllowed, "\(request.method) is not allowed here; use \(allowed)"),
                    requestID: context.requestID)
                response.headers[.allow] = allowed
                return response
            }
            return JSONResponse.error(Self.translate(error.status), requestID: context.requestID)
        } catch {
            context.logger.error("unexpected error", metadata: ["type": "\(type(of: error))"])
            return JSONResponse.error(CharterError(.internalError, "internal error"), requestID: context.requestID)
        }
    }

    private static func translate(_ status: HTTPResponse.Status) -> CharterError {
        switch status {
        case .notFound: CharterError(.notFound, "no such endpoint")
        case .contentTooLarge: CharterError(.payloadTooLarge, "the request body is too large")
        case .badRequest: CharterError(.validationFailed, "the request could not be read")
        default: CharterError(.internalError, "internal error")
        }
    }
}
