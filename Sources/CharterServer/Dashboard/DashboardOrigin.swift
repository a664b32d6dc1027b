import CharterCore
import Foundation
import HTTPTypes
import Hummingbird

/// Where a dashboard request came from: whether the browser reached the server over HTTPS (for the
/// session cookie's `Secure`), and whether a form was posted from the dashboard's own pages (against
/// login CSRF and as a second line behind each form's CSRF token).
struct DashboardOrigin: Sendable {
    private static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    private static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// Proxies whose `X-Forwarded-Proto` is believed: the same list that decides whose `X-Forwarded-For` is.
    let trustedProxies: [CIDR]

    /// Whether the browser's connection was HTTPS: TLS at this server, or `X-Forwarded-Proto: https` from a
    /// trusted proxy. From any other peer the header is ignored.
    func isHTTPS(_ request: Request, _ context: CharterRequestContext) -> Bool {
        if request.head.scheme == "https" { return true }
        guard let peer = context.peer, trustedProxies.contains(where: { $0.contains(peer) }),
            let proto = request.headers[Self.forwardedProto]
        else { return false }
        // The last entry is the one the trusted peer wrote; anything before it may be the client's own.
        return proto.split(separator: ",").last?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }

    /// Whether a POST came from anywhere but this dashboard's own pages: a browser's `Sec-Fetch-Site` other
    /// than `same-origin` (or `none`, a user's own action), or an `Origin` other than this server's.
    ///
    /// A request with neither header is not a browser's (browsers send `Origin` with every POST) and cannot
    /// carry another site's intent, so it passes; an API client signing in with curl still can.
    func isCrossOrigin(_ request: Request, _ context: CharterRequestContext) -> Bool {
        if let site = request.headers[Self.fetchSite]?.lowercased(), site != "same-origin", site != "none" {
            return true
        }
        guard let origin = request.headers[.origin] else { return false }
        let parts = origin.split(separator: "://", maxSplits: 1)
        // "null" (a sandboxed frame, an opaque origin) and anything malformed count as another site.
        guard let authority = request.head.authority, parts.count == 2, !parts[1].contains("/") else { return true }
        let claimed = Self.normalized(scheme: String(parts[0]), authority: String(parts[1]))
        let scheme = isHTTPS(request, context) ? "https" : "http"
        // The page's own origin; or the same host over HTTPS, which is what a TLS-terminating proxy not listed
        // with --trusted-proxy looks like, and is never another site.
        return claimed != Self.normalized(scheme: scheme, authority: authority)
            && claimed != Self.normalized(scheme: "https", authority: authority)
    }

    /// `scheme://host[:port]` lowercased, without the scheme's default port, as browsers write `Origin`.
    private static func normalized(scheme: String, authority: String) -> String {
        let scheme = scheme.lowercased()
        var authority = authority.lowercased()
        let defaultPort = scheme == "https" ? ":443" : scheme == "http" ? ":80" : nil
        if let defaultPort, authority.hasSuffix(defaultPort) { authority.removeLast(defaultPort.count) }
        return "\(scheme)://\(authority)"
    }
}
