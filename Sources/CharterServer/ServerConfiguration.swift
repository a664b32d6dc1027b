public import CharterCore

/// How the HTTP server listens and whom it trusts.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else the header is ignored.
    public var trustedProxies: [CIDR]

    public init(host: String = "127.0.0.1", port: Int = 8080, trustedProxies: [CIDR] = []) {
        self.host = host
        self.port = port
        self.trustedProxies = trustedProxies
    }
}
