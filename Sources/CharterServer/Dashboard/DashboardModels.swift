import CharterCore
import Foundation
import UCAN

/// What each page template shows, worked out from the records: the templates only place and escape it.
///
/// Mustache looks a name up through the enclosing models and treats nil as absent, so an optional member
/// never shares its name with a member of a model around it (or of ``DashboardLayout``).
enum DashboardModels {
    struct SignIn {
        let notice: String?
    }

    /// A refusal, with the status its API call would have.
    struct Failure {
        let notice: String
        let back: String
    }

    struct Home {
        let label: String
        let prefix: String
        let role: String
        let permissions: String

        init(_ key: APIKey) {
            label = key.label
            prefix = key.prefix
            role = key.role?.rawValue ?? "custom"
            permissions = key.permissions.sorted().map(\.rawValue).joined(separator: ", ")
        }
    }

    struct AppRow {
        let id: String
        let name: String
        let environment: String
        let created: String

        init(_ app: App) {
            id = app.id
            name = app.name
            environment = app.environment.rawValue
            created = HTML.time(app.createdAt)
        }
    }

    struct Apps {
        let canCreate: Bool
        let apps: [AppRow]
    }

    /// One app, with the keys and the key form its viewer may see.
    struct AppDetail {
        let id: String
        let environment: String
        let created: String
        let keys: Keys?
        let createKey: CreateKey?
    }

    struct Keys {
        struct Row {
            let id: String
            let label: String
            let prefix: String
            let role: String
            let status: String
            let active: Bool
            let expires: String
            let created: String
            let lastUsed: String
            let usage: Int64
        }

        let canWrite: Bool
        let rows: [Row]

        init(_ keys: [APIKey], now: Date, canWrite: Bool) {
            self.canWrite = canWrite
            rows = keys.map { key in
                let status = key.status(at: now)
                return Row(
                    id: key.id, label: key.label, prefix: key.prefix, role: key.role?.rawValue ?? "custom",
                    status: status.rawValue, active: status == .active, expires: HTML.time(key.expiresAt),
                    created: HTML.time(key.createdAt), lastUsed: HTML.time(key.lastUsedAt), usage: key.usageCount)
            }
        }
    }

    /// The key form offers only the roles and permissions the viewer holds: a key never creates a freer one.
    struct CreateKey {
        let appID: String
        let roles: [String]
        let permissions: [String]

        init(appID: String, held: Set<Permission>) {
            self.appID = appID
            roles = Role.allCases.filter { $0.permissions.isSubset(of: held) }.map(\.rawValue)
            permissions = Permission.allCases.filter(held.contains).map(\.rawValue)
        }
    }

    /// The one and only time a key's plaintext is shown.
    struct Reveal {
        let label: String
        let plaintext: String
        let appID: String

        init(_ issued: IssuedKey) {
            label = issued.key.label
            plaintext = issued.plaintext
            appID = issued.key.appID
        }
    }

    struct Envelopes {
        struct Row {
            let id: String
            let name: String
            let app: String
            /// The 0.10 capabilities, the 1.0 commands and the OAuth audiences, each as JSON; nil when the envelope
            /// has none.
            let capabilities: String?
            let commands: String?
            let audiences: String?
            let maxTTLSeconds: Int
            let status: String
            let created: String
            let revocable: Bool
        }

        let canCreate: Bool
        let apps: [AppRow]
        let envelopes: [Row]

        init(_ envelopes: [Envelope], apps: [App], canWrite: Bool) {
            let names = Dictionary(apps.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
            canCreate = canWrite && !apps.isEmpty
            self.apps = apps.map(AppRow.init)
            self.envelopes = envelopes.map { envelope in
                Row(
                    id: envelope.id, name: envelope.name, app: names[envelope.appID] ?? envelope.appID,
                    capabilities: envelope.capabilities.isEmpty
                        ? nil : String(decoding: envelope.capabilities.json.serialized(), as: UTF8.self),
                    commands: envelope.commands.isEmpty
                        ? nil : String(decoding: envelope.commands.json.serialized(), as: UTF8.self),
                    audiences: envelope.audiences.isEmpty
                        ? nil : String(decoding: envelope.audiences.json.serialized(), as: UTF8.self),
                    maxTTLSeconds: envelope.maxTTLSeconds, status: envelope.revokedAt == nil ? "active" : "revoked",
                    created: HTML.time(envelope.createdAt), revocable: canWrite && envelope.revokedAt == nil)
            }
        }
    }

    struct SigningKeys {
        struct Row {
            let environment: String
            let did: String
            let status: String
            let statusText: String
            let created: String
            let retired: String
            let verifyUntil: String
        }

        /// The environments whose key the viewer may rotate.
        let rotatable: [String]
        let issuers: [Row]

        init(_ issuers: [SigningKeyRecord], rotatable: [Environment], now: Date) {
            self.rotatable = rotatable.map(\.rawValue)
            self.issuers = issuers.reversed().map { record in
                let status = record.status(at: now).rawValue
                return Row(
                    environment: record.environment.rawValue, did: record.did.string, status: status,
                    statusText: status.replacingOccurrences(of: "_", with: " "), created: HTML.time(record.createdAt),
                    retired: HTML.time(record.retiredAt, none: "—"),
                    verifyUntil: HTML.time(record.verifyUntil, none: "—"))
            }
        }
    }

    struct Audit {
        struct Filters {
            let keyID: String
            let action: String
            let since: String
            let until: String
        }

        struct Outcome {
            let value: String
            let name: String
            let selected: Bool
        }

        struct Row {
            let seq: Int64
            let time: String
            let keyID: String?
            /// The key's label beside its id, since people attribute calls by label.
            let keyLabel: String?
            let action: String
            let outcome: String
            let target: String
            let reason: String
            let ip: String
        }

        let filters: Filters
        let outcomes: [Outcome]
        let records: [Row]
        /// The next page's address, when there is one.
        let older: String?

        /// - Parameters:
        ///   - labels: key id → label, for the keys the viewer may read.
        ///   - filter: the value of each filter the page was asked for.
        init(_ records: [AuditRecord], labels: [String: String], filter: (String) -> String?, next: Int64?) {
            filters = Filters(
                keyID: filter("key_id") ?? "", action: filter("action") ?? "", since: filter("since") ?? "",
                until: filter("until") ?? "")
            outcomes = ["", "success", "denied", "failure"].map {
                Outcome(value: $0, name: $0.isEmpty ? "any" : $0, selected: filter("outcome") == $0)
            }
            self.records = records.map { record in
                let event = record.event
                return Row(
                    seq: record.seq, time: HTML.time(event.time), keyID: event.keyID,
                    keyLabel: event.keyID.flatMap { labels[$0] }, action: event.action,
                    outcome: event.outcome.rawValue, target: event.target ?? "", reason: event.reason ?? "",
                    ip: event.ip ?? "")
            }
            older = next.map { next in
                var items = ["key_id", "action", "outcome", "since", "until"].compactMap { name in
                    filter(name).map { URLQueryItem(name: name, value: $0) }
                }
                items.append(URLQueryItem(name: "cursor", value: String(next)))
                var components = URLComponents()
                components.queryItems = items
                return "/dashboard/audit" + (components.string ?? "")
            }
        }
    }
}
