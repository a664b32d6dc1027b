public import CharterCore
public import Hummingbird
import NIOCore

/// Per-request state: the request id and the client address. The authenticated caller is handed to each API
/// route by ``RouteRegistrar``, so no route can forget to ask for it.
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
    /// The largest request body accepted.
    public var maxUploadSize: Int { 64 * 1024 }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress
    }

    /// The request's id and client address, for audit records.
    public var call: CallContext { CallContext(ip: clientIP, requestID: requestID) }
}
