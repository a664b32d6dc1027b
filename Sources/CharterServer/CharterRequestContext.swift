public import CharterCore
public import Hummingbird
import NIOCore

/// Per-request state: the request id, the client address, and the caller once authenticated.
public struct CharterRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's socket address, turned into an ``IPAddress`` only when something needs it.
    private let peerAddress: SocketAddress?
    /// The TCP peer's address.
    public var peer: IPAddress? { peerAddress?.ipAddress.flatMap { IPAddress($0) } }
    /// Set by ``RequestIDMiddleware``.
    public var requestID: String = ""
    /// The client address after trusted-proxy handling, when it differs from the peer; set by
    /// ``RequestIDMiddleware``.
    var forwardedClient: IPAddress?
    /// The client address after trusted-proxy handling.
    public var clientIP: IPAddress? { forwardedClient ?? peer }
    /// Set by ``AuthenticationMiddleware`` on `/v1` routes.
    public var identity: Identity?
    /// The largest request body accepted.
    public var maxUploadSize: Int { 64 * 1024 }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress
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
