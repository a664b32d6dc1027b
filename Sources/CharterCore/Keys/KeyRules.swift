import Foundation

/// The checks on key settings shared by creation and editing, each failing with the field at fault.
enum KeyRules {
    static let maxLabelLength = 100
    static let maxListLength = 100

    static func label(_ text: String) throws(CharterError) -> String { try name(text, field: "label") }

    /// A display name: at most 100 Unicode scalars as sent (the spec's `maxLength`), trimmed, not empty,
    /// no control or format characters.
    ///
    /// Format characters (general category Cf: bidi overrides and isolates such as U+202E, zero-width
    /// spaces and joiners, U+FEFF) are invisible, and the bidi ones reorder what follows them, so a name
    /// holding one can pass in the dashboard for another.
    static func name(_ text: String, field: String) throws(CharterError) -> String {
        let name = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw .invalid(field, "must not be empty") }
        guard text.unicodeScalars.count <= maxLabelLength,
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw .invalid(field, "must be at most \(maxLabelLength) printable characters")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .format }) else {
            throw .invalid(field, "must not contain invisible format characters such as bidi controls (U+202E)")
        }
        return name
    }

    /// A role or a permission list (not both, not neither) as a permission set.
    static func permissions(role: String?, permissions: [String]?) throws(CharterError) -> (Role?, Set<Permission>) {
        switch (role, permissions) {
        case (nil, nil):
            throw .invalid("permissions", "select a role or at least one permission")
        case (nil, let names?) where names.isEmpty:
            throw .invalid("permissions", "select a role or at least one permission")
        case (_?, _?):
            throw .invalid("role", "give a role or a permission list, not both")
        case (let name?, nil):
            guard let role = Role(rawValue: name) else {
                throw .invalid("role", "unknown role; one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return (role, role.permissions)
        case (nil, let names?):
            var set = Set<Permission>()
            for name in names {
                guard let permission = Permission(rawValue: name) else {
                    throw .invalid("permissions", "unknown permission \(name.prefix(40))")
                }
                set.insert(permission)
            }
            return (Role.matching(set), set)
        }
    }

    static func ipAllowlist(_ texts: [String]) throws(CharterError) -> [CIDR] {
        guard texts.count <= maxListLength else { throw .invalid("ip_allowlist", "at most \(maxListLength) entries") }
        var networks: [CIDR] = []
        for text in texts { networks.append(try CIDR(text)) }
        return networks
    }

    static func endpoints(_ paths: [String]) throws(CharterError) -> [String] {
        guard paths.count <= maxListLength else {
            throw .invalid("allowed_endpoints", "at most \(maxListLength) entries")
        }
        for path in paths {
            guard path.hasPrefix("/"), path.count <= 200, !path.dropLast().contains("*"),
                path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else {
                throw .invalid(
                    "allowed_endpoints", "each entry is a path such as /v1/authorize, optionally ending in *")
            }
        }
        return paths
    }

    static func rateLimit(_ value: Int) throws(CharterError) -> Int {
        guard (1...1_000_000).contains(value) else { throw .invalid("rate_limit_per_minute", "must be 1...1000000") }
        return value
    }

    /// Whether every network in `narrower` lies inside some network of `wider` (an empty `wider` allows all).
    static func networks(_ narrower: [CIDR], within wider: [CIDR]) -> Bool {
        if wider.isEmpty { return true }
        return !narrower.isEmpty
            && narrower.allSatisfy { inner in
                wider.contains { $0.contains(inner) }
            }
    }

    /// Whether every endpoint pattern in `narrower` is matched by some pattern of `wider` (empty allows all).
    static func endpoints(_ narrower: [String], within wider: [String]) -> Bool {
        if wider.isEmpty { return true }
        return !narrower.isEmpty
            && narrower.allSatisfy { inner in
                wider.contains { APIKey.endpoint($0, matches: inner) }
            }
    }

    /// The first setting in which `key` is freer than `limit`, the key that makes or edits it; nil when it is at
    /// most as free in every one: permissions, IP allowlist, allowed endpoints, rate limit and expiry.
    static func freer(_ key: APIKey, than limit: APIKey) -> String? {
        if !key.permissions.isSubset(of: limit.permissions) { return "permissions" }
        if !networks(key.ipAllowlist, within: limit.ipAllowlist) { return "ip_allowlist" }
        if !endpoints(key.allowedEndpoints, within: limit.allowedEndpoints) { return "allowed_endpoints" }
        if let most = limit.rateLimitPerMinute, (key.rateLimitPerMinute ?? .max) > most {
            return "rate_limit_per_minute"
        }
        if let latest = limit.expiresAt, (key.expiresAt ?? .distantFuture) > latest { return "expires_at" }
        return nil
    }
}
