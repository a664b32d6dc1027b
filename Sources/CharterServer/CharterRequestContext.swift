public import CharterCore
public import Hummingbird
import NIOCore

/// Per-request state: the request id, the client address, and the authenticated caller.
public struct CharterRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer's socket address, turned into an ``IPAddress`` only when something needs it.
    private let peerAddress: SocketAddress?
    /// The TCP peer's address.
    public var peer: IPAddress? { peerAddress?.ipAddress.flatMap { IPAddress($0) } }
    /// Set by ``RequestMiddleware``.
    public var requestID: String = ""
    /// The client address after trusted-proxy handling, when it differs from the peer; set by
    /// ``RequestMiddleware``.
    var forwardedClient: IPAddress?
    /// The client address after trusted-proxy handling.
    public var clientIP: IPAddress? { forwardedClient ?? peer }
    /// The caller, set by the authentication middleware of the endpoint's access (``EndpointRouter``).
    public internal(set) var identity: Identity?
    /// The dashboard session's CSRF token, set with ``identity`` for dashboard pages.
    var csrf: String?
    /// The largest request body accepted.
    public var maxUploadSize: Int { 64 * 1024 }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress
    }

    /// The request's id and client address, for audit records.
    public var call: CallContext { CallContext(ip: clientIP, requestID: requestID) }
}
