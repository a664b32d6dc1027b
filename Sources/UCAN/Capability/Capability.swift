/// One capability: an ability on a resource, limited by caveats that are alternatives to each other.
public struct Capability: Sendable, Hashable, CustomStringConvertible {
    /// A resource URI, or `*` for every resource; a trailing `*` covers every resource with that prefix.
    public let resource: String
    /// A lower-cased ability such as `email/send`; `*` or a trailing `/*` covers everything beneath.
    public let ability: String
    /// Caveat objects; `[{}]` means no further restriction.
    public let caveats: [JSONObject]

    /// Creates a capability without checking it; ``Capabilities`` checks what it stores.
    public init(resource: String, ability: String, caveats: [JSONObject] = [[:]]) {
        self.resource = resource
        // Most abilities are already lower-case ASCII; skip the allocation then.
        self.ability =
            ability.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }) ? ability.lowercased() : ability
        self.caveats = caveats
    }

    public var description: String { "\(ability) on \(resource)" }

    /// Whether this capability grants at least everything `child` claims.
    public func covers(_ child: Capability) -> Bool {
        Self.pattern(resource, covers: child.resource, separator: nil)
            && Self.pattern(ability, covers: child.ability, separator: "/")
            && child.caveats.allSatisfy { claimed in caveats.contains { Self.caveat($0, covers: claimed) } }
    }

    /// Whether the ability `parent` (`*`, `ns/*` or exact) covers the ability `child`.
    public static func ability(_ parent: String, covers child: String) -> Bool {
        pattern(parent, covers: child, separator: "/")
    }

    /// `*` covers everything; `prefix*` covers what starts with the prefix (for abilities `ns/*` is needed).
    private static func pattern(_ parent: String, covers child: String, separator: Character?) -> Bool {
        if parent == "*" || parent == child { return true }
        guard parent.hasSuffix("*") else { return false }
        let prefix = parent.dropLast()
        if let separator, prefix.last != separator { return false }
        return child.hasPrefix(prefix)
    }

    /// A child caveat is covered when it has every field of the parent with an equal or narrower value.
    static func caveat(_ parent: JSONObject, covers child: JSONObject) -> Bool {
        parent.allSatisfy { key, parentValue in
            guard let childValue = child[key] else { return false }
            return value(parentValue, covers: childValue)
        }
    }

    private static func value(_ parent: JSONValue, covers child: JSONValue) -> Bool {
        switch (parent, child) {
        case (.object(let p), .object(let c)): caveat(p, covers: c)
        case (.array(let p), .array(let c)): c.allSatisfy { p.contains($0) }
        default: parent == child
        }
    }
}
