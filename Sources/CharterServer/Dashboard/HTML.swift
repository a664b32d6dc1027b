import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// Text made safe for HTML: everything interpolated into a page goes through ``escape(_:)``.
enum HTML {
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// A time as the dashboard shows it: `2026-11-24 14:40 UTC`.
    static func time(_ date: Date?, none: String = "Never") -> String {
        guard let date else { return none }
        let stamp = Timestamp.format(date)
        return stamp.prefix(10) + " " + stamp.dropFirst(11).prefix(5) + " UTC"
    }

    /// A complete page: the navigation (for a signed-in caller), a title and `body`, which must already be
    /// escaped. Scripts and styles come from `/dashboard/assets`, so the CSP can forbid inline code.
    static func page(_ title: String, session: DashboardRoutes.Signed?, _ body: String) -> String {
        var navigation = ""
        if let session {
            let identity = session.identity
            let links = [
                ("Apps", "/dashboard/apps", identity.has(.appsRead)),
                ("Envelopes", "/dashboard/envelopes", identity.has(.envelopesRead)),
                ("Signing keys", "/dashboard/signing-keys", identity.has(.signingKeysRead)),
                ("Audit log", "/dashboard/audit", identity.has(.auditRead)),
            ].filter(\.2).map { #"<a href="\#($0.1)">\#($0.0)</a>"# }.joined()
            navigation = """
                <header class="top">
                  <a class="brand" href="/dashboard">Charter</a>
                  <nav>\(links)</nav>
                  <div class="who">
                    <span title="\(escape(identity.key.id))">\(escape(identity.organization.name)) · \(escape(identity.key.label))</span>
                    <form method="post" action="/dashboard/sign-out">\(csrfField(session.csrf))<button class="link" type="submit">Sign out</button></form>
                  </div>
                </header>
                """
        }
        return """
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>\(escape(title)) · Charter</title>
              <link rel="stylesheet" href="/dashboard/assets/dashboard.css">
              <script src="/dashboard/assets/dashboard.js" defer></script>
            </head>
            <body>
            \(navigation)
            <main>
            <h1>\(escape(title))</h1>
            \(body)
            </main>
            </body>
            </html>
            """
    }

    static func csrfField(_ token: String) -> String {
        #"<input type="hidden" name="csrf" value="\#(escape(token))">"#
    }

    static func notice(_ message: String, kind: String = "error") -> String {
        #"<p class="notice \#(kind)" role="alert">\#(escape(message))</p>"#
    }

    /// Headers every dashboard response carries: no caching (pages show keys and audit data), no framing,
    /// no inline script, no referrer to other sites.
    static var securityHeaders: HTTPFields {
        [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy:
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            HTTPField.Name("X-Frame-Options")!: "DENY",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            // No Referer leaves the dashboard, while its own form posts carry their real Origin (under
            // no-referrer a browser would send `Origin: null`, which DashboardOrigin cannot tell from a sandbox).
            HTTPField.Name("Referrer-Policy")!: "same-origin",
        ]
    }

    static func response(_ html: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = securityHeaders
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(_ location: String, headers: HTTPFields = [:]) -> Response {
        var fields = securityHeaders
        fields[.location] = location
        fields.append(contentsOf: headers)
        return Response(status: .seeOther, headers: fields)
    }
}

/// An `application/x-www-form-urlencoded` body.
struct FormData {
    private var fields: [(String, String)] = []

    init(_ body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            fields.append((decode(parts[0]), parts.count > 1 ? decode(parts[1]) : ""))
        }
    }

    /// The first value of `name`, trimmed; nil when absent or empty.
    subscript(_ name: String) -> String? {
        let value = fields.first { $0.0 == name }?.1.trimmingCharacters(in: .whitespacesAndNewlines)
        return value?.isEmpty == false ? value : nil
    }

    /// Whether the form's `csrf` field is the session's token, compared in constant time; never for an empty
    /// token.
    func carries(csrf token: String) -> Bool {
        !token.isEmpty && SecureBytes.constantTimeEquals(Array((self["csrf"] ?? "").utf8), Array(token.utf8))
    }

    /// Every non-empty value of `name`.
    func all(_ name: String) -> [String] {
        fields.filter { $0.0 == name }.map(\.1).filter { !$0.isEmpty }
    }

    /// One entry per line (or comma) of a text area.
    func lines(_ name: String) -> [String] {
        (self[name] ?? "").split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
