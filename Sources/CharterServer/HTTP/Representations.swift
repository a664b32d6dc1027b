import CharterCore
import Foundation
import UCAN

/// How models look on the wire. Key records never include the secret or its hash.
enum Representation {
    static func time(_ date: Date?) -> JSONValue { date.map { .string(Timestamp.format($0)) } ?? .null }

    /// A key record; `unflushed` is usage counted but not yet stored (see ``UsageTracker``), added here so the
    /// key need not be copied to add it.
    static func key(_ key: APIKey, at now: Date, unflushed: KeyUsage? = nil, into json: inout JSONObjectWriter) {
        keyMembers(key, into: &json) { member, json in
            json.member(member.name) { member.write(key, at: now, unflushed: unflushed, into: &$0) }
        }
    }

    /// The members of a key record that change as the key is used, in the order the record lists them.
    enum LiveKeyMember: Int {
        case lastUsedAt, status, usageCount

        var name: StaticString {
            switch self {
            case .lastUsedAt: "last_used_at"
            case .status: "status"
            case .usageCount: "usage_count"
            }
        }

        func write(_ key: APIKey, at now: Date, unflushed: KeyUsage?, into bytes: inout [UInt8]) {
            let usage = unflushed.map(key.usage(adding:))
            switch self {
            case .lastUsedAt: JSONObjectWriter.time(usage?.lastUsedAt ?? key.lastUsedAt, into: &bytes)
            case .status: JSONObjectWriter.string(key.status(at: now).rawValue, into: &bytes)
            case .usageCount: JSONObjectWriter.integer(usage?.count ?? key.usageCount, into: &bytes)
            }
        }
    }

    /// `GET /v1/me`'s body for `caller` with holes for the key's live members, numbered as ``LiveKeyMember``.
    static func me(_ caller: Identity) -> JSONTemplate {
        JSONTemplate { json in
            json.object("api_key") {
                keyMembers(caller.key, into: &$0) { member, json in json.hole(member.name) }
            }
            json.object("organization") { organization(caller.organization, into: &$0) }
        }
    }

    /// A key record, with each live member written by `live` where it belongs.
    private static func keyMembers(
        _ key: APIKey, into json: inout JSONObjectWriter, live: (LiveKeyMember, inout JSONObjectWriter) -> Void
    ) {
        json.strings("allowed_endpoints", key.allowedEndpoints)
        json.string("app_id", key.appID)
        json.time("created_at", key.createdAt)
        json.string("created_by", key.createdBy)
        json.string("environment", key.environment.rawValue)
        json.time("expires_at", key.expiresAt)
        json.string("id", key.id)
        json.strings("ip_allowlist", key.ipAllowlist.lazy.map(\.description))
        json.string("label", key.label)
        live(.lastUsedAt, &json)
        json.strings(
            "permissions", Permission.inNameOrder.lazy.filter(key.permissions.contains).map(\.rawValue))
        json.string("prefix", key.prefix)
        json.integer("rate_limit_per_minute", key.rateLimitPerMinute.map(Int64.init))
        json.time("revoked_at", key.revokedAt)
        json.string("revoked_by", key.revokedBy)
        json.string("role", key.role?.rawValue)
        live(.status, &json)
        live(.usageCount, &json)
    }

    static func app(_ app: App, into json: inout JSONObjectWriter) {
        json.time("created_at", app.createdAt)
        json.string("created_by", app.createdBy)
        json.string("environment", app.environment.rawValue)
        json.string("id", app.id)
        json.string("name", app.name)
    }

    static func organization(_ organization: Organization, into json: inout JSONObjectWriter) {
        json.time("created_at", organization.createdAt)
        json.string("id", organization.id)
        json.string("name", organization.name)
    }

    static func envelope(_ envelope: Envelope, into json: inout JSONObjectWriter) {
        json.string("app_id", envelope.appID)
        json.value("audiences", envelope.audiences.json)
        json.value("capabilities", envelope.capabilities.json)
        json.value("commands", envelope.commands.json)
        json.time("created_at", envelope.createdAt)
        json.string("created_by", envelope.createdBy)
        json.string("environment", envelope.environment.rawValue)
        json.string("id", envelope.id)
        json.integer("max_ttl_seconds", Int64(envelope.maxTTLSeconds))
        json.string("name", envelope.name)
        json.time("revoked_at", envelope.revokedAt)
        json.string("revoked_by", envelope.revokedBy)
        json.string("status", envelope.status.rawValue)
    }

    static func token(_ token: MintedToken, into json: inout JSONObjectWriter) {
        json.string("app_id", token.appID)
        json.string("audience", token.audience.string)
        json.string("cid", token.cid.string)
        json.time("created_at", token.createdAt)
        json.string("envelope_id", token.envelopeID)
        json.string("environment", token.environment.rawValue)
        json.time("expires_at", token.expiresAt)
        json.string("key_id", token.keyID)
        json.time("revoked_at", token.revokedAt)
    }

    /// A feed entry; for a token, `iss`, `revoke` and `challenge` are its UCAN 0.10 revocation record. A value
    /// rather than written bytes, because the feed head's digest covers the list exactly as sent.
    static func revocation(_ entry: RevocationEntry) -> JSONValue {
        [
            "challenge": .string(Base64URL.encode(entry.challenge)), "covers_until": time(entry.coversUntil),
            "environment": .string(entry.environment.rawValue), "iss": .string(entry.issuer.string),
            "kind": .string(entry.kind.rawValue), "revoke": .string(entry.subject), "revoked_at": time(entry.revokedAt),
            "seq": .integer(entry.seq),
        ]
    }

    /// A signing key as published: never its sealed secret.
    static func issuer(_ key: SigningKeyRecord, at now: Date, into json: inout JSONObjectWriter) {
        json.string("did", key.did.string)
        json.string("environment", key.environment.rawValue)
        json.time("not_after", key.verifyUntil)
        json.time("not_before", key.createdAt)
        // null for an issuer shared by every organization, from before issuers were per organization.
        json.value("org", key.orgID.map(JSONValue.string) ?? .null)
        json.time("retired_at", key.retiredAt)
        json.string("status", key.status(at: now).rawValue)
    }

    /// The hashed fields exactly as ``AuditChain`` hashes them, plus a readable time and the hashes,
    /// so anyone can re-check an export offline.
    static func audit(_ record: AuditRecord) -> JSONValue {
        guard case .object(var fields) = AuditChain.json(seq: record.seq, event: record.event) else { return .null }
        fields["time"] = time(record.event.time)
        fields["previous_hash"] = .string(hex(record.previousHash))
        fields["hash"] = .string(hex(record.hash))
        return .object(fields)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
