import CharterCore
import Foundation
import Hummingbird
import UCAN

/// The dashboard's larger page parts. Every value from the store is escaped with ``HTML/escape(_:)``.
enum DashboardPages {
    static func keysTable(_ keys: [APIKey], now: Date, signed: DashboardRoutes.Signed) -> String {
        let canWrite = signed.identity.has(.keysWrite)
        let rows = keys.map { key -> String in
            let status = key.status(at: now)
            let name = HTML.escape(key.label)
            var actions = ""
            if canWrite {
                if status == .active {
                    actions += """
                        <form method="post" action="/dashboard/keys/\(HTML.escape(key.id))/revoke" \
                        data-confirm="Revoke the key “\(name)” (\(HTML.escape(key.prefix)))? Every request made with it will be refused from now on. This cannot be undone.">\
                        \(HTML.csrfField(signed.csrf))<button class="danger small" type="submit">Revoke</button></form>
                        """
                }
                actions += """
                    <form method="post" action="/dashboard/keys/\(HTML.escape(key.id))/duplicate">\
                    \(HTML.csrfField(signed.csrf))<button class="small" type="submit">Duplicate</button></form>
                    """
            }
            return """
                <tr data-key-id="\(HTML.escape(key.id))"><td>\(name)</td><td><code>\(HTML.escape(key.prefix))</code></td>\
                <td>\(HTML.escape(key.role?.rawValue ?? "custom"))</td>\
                <td><span class="status \(status.rawValue)">\(status.rawValue)</span></td>\
                <td>\(HTML.time(key.expiresAt))</td><td>\(HTML.time(key.createdAt))</td>\
                <td>\(HTML.time(key.lastUsedAt))</td><td class="number">\(key.usageCount)</td>\
                <td class="actions">\(actions)</td></tr>
                """
        }.joined()
        return """
            <section>
              <div class="section-head"><h2>API keys</h2>\
            \(canWrite ? #"<button type="button" id="create-key" data-open-dialog="create-key-dialog">Create API key</button>"# : "")</div>
              <div class="scroll"><table id="keys">
                <thead><tr><th>Name</th><th>Key</th><th>Role</th><th>Status</th><th>Expires</th><th>Created</th><th>Last used</th><th>Usage</th><th></th></tr></thead>
                <tbody>\(rows.isEmpty ? #"<tr><td colspan="9">No keys yet.</td></tr>"# : rows)</tbody>
              </table></div>
            </section>
            """
    }

    static func createKeyDialog(app: App, signed: DashboardRoutes.Signed) -> String {
        let held = signed.identity.key.permissions
        let roles = Role.allCases.filter { $0.permissions.isSubset(of: held) }.map {
            #"<option value="\#($0.rawValue)">\#($0.rawValue)</option>"#
        }.joined()
        let permissions = Permission.allCases.filter(held.contains).map {
            #"<label class="check"><input type="checkbox" name="permissions" value="\#($0.rawValue)"> \#($0.rawValue)</label>"#
        }.joined()
        return """
            <dialog id="create-key-dialog">
              <form method="post" action="/dashboard/apps/\(HTML.escape(app.id))/keys" id="create-key-form" class="stack">
                \(HTML.csrfField(signed.csrf))
                <h2>Create API key</h2>
                <label>Name <input name="label" id="key-label" required maxlength="100" placeholder="e.g. billing-agent"></label>
                <label>Role
                  <select name="role" id="key-role">
                    <option value="" selected disabled>Select a role…</option>\(roles)
                    <option value="custom">Custom permissions…</option>
                  </select>
                </label>
                <fieldset id="key-permissions" hidden><legend>Permissions</legend>\(permissions)</fieldset>
                <p class="notice error" id="role-error" hidden>Select a role or at least one permission.</p>
                <fieldset><legend>Expires</legend>
                  <label class="check"><input type="radio" name="expiry" value="never" checked> Never</label>
                  <label class="check"><input type="radio" name="expiry" value="30"> In 30 days</label>
                  <label class="check"><input type="radio" name="expiry" value="90"> In 90 days</label>
                  <label class="check"><input type="radio" name="expiry" value="custom"> On <input type="date" name="expires_on" id="expires-on"></label>
                </fieldset>
                <label>IP allowlist <textarea name="ip_allowlist" rows="2" placeholder="10.0.0.0/8, 2001:db8::/32 — one per line; empty allows any address"></textarea></label>
                <label>Allowed endpoints <textarea name="allowed_endpoints" rows="2" placeholder="/v1/authorize — one per line; empty allows every endpoint"></textarea></label>
                <div class="buttons"><button type="button" class="secondary" data-close-dialog>Cancel</button><button type="submit" id="create-key-submit">Create key</button></div>
              </form>
            </dialog>
            """
    }

    /// The one and only time a key's plaintext is shown.
    static func reveal(_ issued: IssuedKey, signed: DashboardRoutes.Signed) -> Response {
        HTML.response(
            HTML.page(
                "Your new API key", session: signed,
                """
                <section class="card reveal">
                  <p class="notice warning" role="alert">Copy this key now and store it somewhere safe, such as a secrets manager. <strong>It won't be shown again</strong> — Charter keeps only a hash of it.</p>
                  <label for="new-key">\(HTML.escape(issued.key.label))</label>
                  <div class="copy-row">
                    <input id="new-key" readonly value="\(HTML.escape(issued.plaintext))" spellcheck="false">
                    <button type="button" id="copy-key" data-copy-target="new-key">Copy</button>
                  </div>
                  <p class="hint" id="copy-status" aria-live="polite"></p>
                  <p><a class="button" href="/dashboard/apps/\(HTML.escape(issued.key.appID))" id="done">Done</a></p>
                </section>
                """))
    }

    static func envelopes(_ envelopes: [Envelope], apps: [App], signed: DashboardRoutes.Signed, now: Date) -> String {
        let canWrite = signed.identity.has(.envelopesWrite)
        let names = Dictionary(apps.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let rows = envelopes.map { envelope -> String in
            let name = HTML.escape(envelope.name)
            let revoke =
                canWrite && envelope.revokedAt == nil
                ? """
                <form method="post" action="/dashboard/envelopes/\(HTML.escape(envelope.id))/revoke" \
                data-confirm="Revoke the envelope “\(name)”? No token will be minted under it again, and every token minted under it is listed as revoked.">\
                \(HTML.csrfField(signed.csrf))<button class="danger small" type="submit">Revoke</button></form>
                """ : ""
            return """
                <tr><td>\(name)</td><td>\(HTML.escape(names[envelope.appID] ?? envelope.appID))</td>\
                <td><code class="wrap">\(HTML.escape(String(decoding: envelope.capabilities.json.serialized(), as: UTF8.self)))</code></td>\
                <td class="number">\(envelope.maxTTLSeconds) s</td>\
                <td><span class="status \(envelope.revokedAt == nil ? "active" : "revoked")">\(envelope.revokedAt == nil ? "active" : "revoked")</span></td>\
                <td>\(HTML.time(envelope.createdAt))</td><td class="actions">\(revoke)</td></tr>
                """
        }.joined()
        let appOptions = apps.map {
            #"<option value="\#(HTML.escape($0.id))">\#(HTML.escape($0.name)) (\#($0.environment.rawValue))</option>"#
        }.joined()
        let create =
            canWrite && !apps.isEmpty
            ? """
            <details class="card"><summary>Create envelope</summary>
            <form method="post" action="/dashboard/envelopes" class="stack">\(HTML.csrfField(signed.csrf))
              <label>App <select name="app_id">\(appOptions)</select></label>
              <label>Name <input name="name" required maxlength="100"></label>
              <label>Capabilities (JSON: resource → ability → caveats)
                <textarea name="capabilities" rows="4" required>{"mailto:*": {"email/send": [{}]}}</textarea></label>
              <label>Longest token lifetime, seconds <input name="max_ttl_seconds" type="number" min="1" value="900" required></label>
              <button type="submit">Create envelope</button>
            </form></details>
            """ : ""
        return """
            \(create)
            <div class="scroll"><table><thead><tr><th>Name</th><th>App</th><th>Capabilities</th><th>Max TTL</th><th>Status</th><th>Created</th><th></th></tr></thead>
            <tbody>\(rows.isEmpty ? #"<tr><td colspan="7">No envelopes yet.</td></tr>"# : rows)</tbody></table></div>
            """
    }

    static func signingKeys(_ issuers: [SigningKeyRecord], signed: DashboardRoutes.Signed, now: Date) -> String {
        let rows = issuers.reversed().map { record in
            """
            <tr><td>\(record.environment.rawValue)</td><td><code class="wrap">\(HTML.escape(record.did.string))</code></td>\
            <td><span class="status \(record.status(at: now).rawValue)">\(record.status(at: now).rawValue.replacingOccurrences(of: "_", with: " "))</span></td>\
            <td>\(HTML.time(record.createdAt))</td><td>\(HTML.time(record.retiredAt, none: "—"))</td>\
            <td>\(HTML.time(record.verifyUntil, none: "—"))</td></tr>
            """
        }.joined()
        let rotate =
            signed.identity.has(.signingKeysRotate)
            ? Environment.allCases.filter(signed.identity.reaches).map { environment in
                """
                <form method="post" action="/dashboard/signing-keys/rotate" data-confirm="Rotate the \(environment.rawValue) signing key? New tokens are signed by a new key at once; tokens signed by the old one keep verifying until they expire.">\
                \(HTML.csrfField(signed.csrf))<input type="hidden" name="environment" value="\(environment.rawValue)">\
                <button type="submit">Rotate \(environment.rawValue) key</button></form>
                """
            }.joined() : ""
        return """
            <div class="buttons">\(rotate)</div>
            <div class="scroll"><table><thead><tr><th>Environment</th><th>Issuer DID</th><th>Status</th><th>Created</th><th>Retired</th><th>Verifies until</th></tr></thead>
            <tbody>\(rows.isEmpty ? #"<tr><td colspan="6">No signing key yet: one is made at the first mint.</td></tr>"# : rows)</tbody></table></div>
            """
    }

    /// - Parameter labels: key id → label, for the keys the caller may read; a row shows its key's label
    ///   beside the id, since people attribute calls by label.
    private static func keyCell(_ id: String?, labels: [String: String]) -> String {
        guard let id else { return "—" }
        let code = "<code>\(HTML.escape(id))</code>"
        return labels[id].map { #"<span class="key-label">\#(HTML.escape($0))</span> \#(code)"# } ?? code
    }

    static func audit(
        _ records: [AuditRecord], labels: [String: String], filters: (String) -> String?, next: Int64?
    ) -> String {
        func value(_ name: String) -> String { HTML.escape(filters(name) ?? "") }
        let outcomes = ["", "success", "denied", "failure"].map { outcome in
            #"<option value="\#(outcome)"\#(filters("outcome") == outcome ? " selected" : "")>\#(outcome.isEmpty ? "any" : outcome)</option>"#
        }.joined()
        let rows = records.map { record in
            let event = record.event
            return """
                <tr><td class="number">\(record.seq)</td><td>\(HTML.time(event.time))</td>\
                <td>\(keyCell(event.keyID, labels: labels))</td><td>\(HTML.escape(event.action))</td>\
                <td><span class="status \(event.outcome.rawValue)">\(event.outcome.rawValue)</span></td>\
                <td>\(HTML.escape(event.target ?? ""))</td><td>\(HTML.escape(event.reason ?? ""))</td>\
                <td>\(HTML.escape(event.ip ?? ""))</td></tr>
                """
        }.joined()
        var older = ""
        if let next {
            var items = ["key_id", "action", "outcome", "since", "until"].compactMap { name in
                filters(name).map { URLQueryItem(name: name, value: $0) }
            }
            items.append(URLQueryItem(name: "cursor", value: String(next)))
            var components = URLComponents()
            components.queryItems = items
            older =
                #"<p><a class="button" id="older" href="/dashboard/audit\#(HTML.escape(components.string ?? ""))">Older →</a></p>"#
        }
        return """
            <form class="card inline" method="get" action="/dashboard/audit">
              <label>Key ID <input name="key_id" value="\(value("key_id"))"></label>
              <label>Action <input name="action" value="\(value("action"))" placeholder="key.create"></label>
              <label>Outcome <select name="outcome">\(outcomes)</select></label>
              <label>From <input type="date" name="since" value="\(value("since"))"></label>
              <label>To <input type="date" name="until" value="\(value("until"))"></label>
              <button type="submit">Filter</button>
            </form>
            <div class="scroll"><table id="audit"><thead><tr><th>#</th><th>Time</th><th>Key</th><th>Action</th><th>Outcome</th><th>Target</th><th>Reason</th><th>IP</th></tr></thead>
            <tbody>\(rows.isEmpty ? #"<tr><td colspan="8">Nothing matches.</td></tr>"# : rows)</tbody></table></div>
            \(older)
            """
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
}
