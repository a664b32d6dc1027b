import CharterCore
import Foundation
import HTTPTypes
import Hummingbird
import UCAN

/// The audit log page.
extension DashboardRoutes {
    func audit(_ request: Request, _ context: CharterRequestContext, _ signed: Signed) async throws -> Response {
        let parameters = request.uri.queryParameters
        func text(_ name: String) -> String? {
            parameters[Substring(name)].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        }
        let pageSize = 50
        let query = AuditQuery(
            keyID: text("key_id"), action: text("action"), outcome: text("outcome").flatMap(AuditEvent.Outcome.init),
            since: text("since").flatMap(HTML.day),
            until: text("until").flatMap(HTML.day).map { $0.addingTimeInterval(86_400 - 0.001) },
            before: text("cursor").flatMap { Int64($0) }, limit: pageSize + 1)
        if text("outcome") != nil, query.outcome == nil {
            throw CharterError.invalid("outcome", "must be success, denied or failure")
        }
        var records = try await controlPlane.audit.query(query, by: signed.identity)
        let more = records.count > pageSize
        records = Array(records.prefix(pageSize))
        // Only the keys on this page, in one lookup.
        let labels =
            signed.identity.has(.keysRead)
            ? try await controlPlane.keys.labels(of: Set(records.compactMap(\.event.keyID)), by: signed.identity) : [:]
        return DashboardTemplate.audit.page(
            "Audit log", session: signed,
            DashboardModels.Audit(records, labels: labels, filter: text, next: more ? records.last?.seq : nil))
    }
}
