import CharterCore
import Foundation
import Hummingbird
import NIOCore
import UCAN

/// `/v1/audit` and `/v1/audit/export`.
enum AuditRoutes {
    static func register(on routes: EndpointRouter) {
        let audit = routes.controlPlane.audit
        routes.on(.audit) { request, _, caller in
            let query = try auditQuery(request.uri.queryParameters, pageable: true)
            let records = try await audit.query(query, by: caller)
            let next: JSONValue =
                records.count == query.limit ? records.last.map { .string(String($0.seq)) } ?? .null : .null
            return JSONResponse.make(["records": .array(records.map(Representation.audit)), "next_cursor": next])
        }
        routes.on(.auditExport) { request, _, caller in
            let query = try auditQuery(request.uri.queryParameters, pageable: false)
            let pages = audit.export(query, by: caller)
            let body = ResponseBody { writer in
                for try await page in pages {
                    var bytes: [UInt8] = []
                    for record in page {
                        Representation.audit(record).write(into: &bytes)
                        bytes.append(UInt8(ascii: "\n"))
                    }
                    try await writer.write(ByteBuffer(bytes: bytes))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
        }
    }

    private static func auditQuery(_ parameters: Parameters, pageable: Bool) throws -> AuditQuery {
        func date(_ name: String) throws -> Date? {
            guard let text = parameters.get(name) else { return nil }
            guard let date = Timestamp.parse(String(text)) else {
                throw CharterError.invalid(name, "must be an RFC 3339 time")
            }
            return date
        }
        var query = AuditQuery(
            keyID: parameters.get("key_id"), action: parameters.get("action"),
            since: try date("since"), until: try date("until"))
        if let outcome = parameters.get("outcome") {
            guard let value = AuditEvent.Outcome(rawValue: String(outcome)) else {
                throw CharterError.invalid("outcome", "must be success, denied or failure")
            }
            query.outcome = value
        }
        if pageable, let limit = parameters.get("limit") {
            guard let value = Int(limit), (1...AuditService.maxPage).contains(value) else {
                throw CharterError.invalid("limit", "must be 1...\(AuditService.maxPage)")
            }
            query.limit = value
        }
        if pageable, let cursor = parameters.get("cursor") {
            guard let value = Int64(cursor), value > 0 else {
                throw CharterError.invalid("cursor", "is not a cursor from this API")
            }
            query.before = value
        }
        return query
    }
}
