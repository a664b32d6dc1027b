public import CharterCore
public import Hummingbird
import NIOCore

/// Per-request state: the request id, the client address, and the caller once authenticated.
public struct CharterRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's address.
    public let peer: IPAddress?
    /// Set by ``RequestIDMiddleware``.
    public var requestID: String = ""
    /// The client address after trusted-proxy handling; set by ``RequestIDMiddleware``.
    public var clientIP: IPAddress?
    /// Set by ``AuthenticationMiddleware`` on `/v1` routes.
    public var identity: Identity?
    /// The largest request body accepted.
    public var maxUploadSize: Int { 64 * 1024 }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = source.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        clientIP = peer
    }

    /// The request's id and client address, for audit records.
    public var call: CallContext { CallContext(ip: clientIP, requestID: requestID) }

    /// The authenticated caller; routes under `/v1` always have one.
    public func caller() throws -> Identity {
        guard let identity else {
            throw CharterError(.apiKeyMissing, "send the API key as Authorization: Bearer <key>")
        }
        return identity
    }
}
