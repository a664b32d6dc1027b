public import CharterCore
public import NIOCore

/// How the HTTP server listens and whom it trusts.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed; from anyone else the headers
    /// are ignored.
    public var trustedProxies: [CIDR]
    /// The URL clients reach this server at, such as `https://charter.example.com`: the OAuth issuer its
    /// metadata names (RFC 8414). Nil to use the URL each request reached it at.
    public var publicURL: String?
    /// How often usage counts and queued audit records are written and the store is checkpointed.
    public var flushInterval: Duration
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: TimeAmount
    /// A connection whose next request head has not fully arrived this long after the connection opened or
    /// the previous response was sent is closed.
    public var requestHeadTimeout: TimeAmount
    /// A connection whose request body has not fully arrived this long after its head is closed.
    public var requestBodyTimeout: TimeAmount

    public init(
        host: String = "127.0.0.1", port: Int = 8080, trustedProxies: [CIDR] = [], publicURL: String? = nil,
        flushInterval: Duration = .seconds(1), idleTimeout: TimeAmount = .seconds(60),
        requestHeadTimeout: TimeAmount = .seconds(10), requestBodyTimeout: TimeAmount = .seconds(10)
    ) {
        self.idleTimeout = idleTimeout
        self.host = host
        self.port = port
        self.trustedProxies = trustedProxies
        self.publicURL = publicURL
        self.flushInterval = flushInterval
        self.requestHeadTimeout = requestHeadTimeout
        self.requestBodyTimeout = requestBodyTimeout
    }
}
