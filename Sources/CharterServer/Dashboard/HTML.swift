import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// How the dashboard answers: its pages' headers and dates.
enum HTML {
    /// A time as the dashboard shows it: `2026-11-24 14:40 UTC`.
    static func time(_ date: Date?, none: String = "Never") -> String {
        guard let date else { return none }
        let stamp = Timestamp.format(date)
        return stamp.prefix(10) + " " + stamp.dropFirst(11).prefix(5) + " UTC"
    }

    /// A `YYYY-MM-DD` date from a date input, as midnight UTC.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, text.count == 10 else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (parts[0], parts[1], parts[2])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: components),
            calendar.component(.day, from: date) == parts[2]
        else { return nil }
        return date
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
