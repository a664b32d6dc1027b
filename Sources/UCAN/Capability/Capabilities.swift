/// A token's `cap` map, resource → ability → caveats, checked against the UCAN 0.10 rules.
public struct Capabilities: Sendable, Hashable {
    /// Every capability, sorted by resource then ability.
    public let all: [Capability]

    /// No capabilities at all (`{}`).
    public static let none = Capabilities(checked: [])

    private init(checked: [Capability]) {
        all = checked.sorted(by: Self.precedes)
    }

    /// Orders by the UTF-8 bytes of resource, then ability: deterministic and cheaper than Unicode ordering.
    private static func precedes(_ lhs: Capability, _ rhs: Capability) -> Bool {
        if lhs.resource != rhs.resource { return lhs.resource.utf8.lexicographicallyPrecedes(rhs.resource.utf8) }
        return lhs.ability.utf8.lexicographicallyPrecedes(rhs.ability.utf8)
    }

    /// Checks and stores a list of capabilities.
    /// - Throws: ``UCANError`` (`invalid_field`, field `cap`) on a reserved or malformed resource or
    ///   ability, an empty caveat list, or the same ability twice on a resource; with the path below `cap`
    ///   (such as `cap["mailto:*"]["email/send"][0].to`) on an empty array anywhere inside a caveat.
    public init(_ capabilities: [Capability]) throws(UCANError) {
        for capability in capabilities {
            try Self.check(resource: capability.resource)
            try Self.check(ability: capability.ability, on: capability.resource)
            guard !capability.caveats.isEmpty else {
                throw UCANError(.invalidField, field: "cap", "caveats of \(capability) must not be empty")
            }
            try Self.checkNoEmptyArray(in: capability)
        }
        self.init(checked: capabilities)
        // Strings compare by canonical equivalence, so `é` and `e` + combining accent are one resource
        // here, though they sort apart by their bytes: checking neighbours would miss such a pair, and the
        // token written would then carry one key twice, which no strict parser accepts.
        var seen = Set<[String]>()
        for capability in all where !seen.insert([capability.resource, capability.ability]).inserted {
            throw UCANError(.invalidField, field: "cap", "\(capability) appears twice")
        }
    }

    /// Reads the `cap` map form.
    /// - Throws: ``UCANError`` naming the field when the shape or a value is wrong.
    public init(json: JSONValue, field: String = "cap") throws(UCANError) {
        guard case .object(let resources) = json else {
            throw UCANError(.invalidField, field: field, "must be an object of resources")
        }
        var list: [Capability] = []
        for (resource, abilities) in resources {
            guard case .object(let abilities) = abilities else {
                throw UCANError(.invalidField, field: field, "abilities of \(resource) must be an object")
            }
            for (ability, caveats) in abilities {
                guard case .array(let caveats) = caveats, !caveats.isEmpty else {
                    throw UCANError(
                        .invalidField, field: field, "caveats of \(ability) on \(resource) must be a non-empty array")
                }
                var objects: [JSONObject] = []
                objects.reserveCapacity(caveats.count)
                for caveat in caveats {
                    guard case .object(let object) = caveat else {
                        throw UCANError(
                            .invalidField, field: field, "caveats of \(ability) on \(resource) must be objects")
                    }
                    objects.append(object)
                }
                list.append(Capability(resource: resource, ability: ability, caveats: objects))
            }
        }
        do {
            try self.init(list)
        } catch {
            // Keep the path below `cap`, under the caller's name for the map.
            let below = error.field.map { $0.hasPrefix("cap") ? String($0.dropFirst(3)) : "" } ?? ""
            throw UCANError(error.code, field: field + below, error.message)
        }
    }

    /// The `cap` map form.
    public var json: JSONValue {
        var resources: JSONObject = [:]
        for capability in all {
            var abilities = resources[capability.resource]?.objectValue ?? [:]
            abilities[capability.ability] = .array(capability.caveats.map(JSONValue.object))
            resources[capability.resource] = .object(abilities)
        }
        return .object(resources)
    }

    /// Writes the cap map as canonical JSON straight from the sorted list, without building it first.
    func write(into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var resource: String?
        for capability in all {
            if capability.resource != resource {
                if resource != nil { out.append(contentsOf: "},".utf8) }
                JSONValue.writeString(capability.resource, into: &out)
                out.append(contentsOf: ":{".utf8)
                resource = capability.resource
            } else {
                out.append(UInt8(ascii: ","))
            }
            JSONValue.writeString(capability.ability, into: &out)
            out.append(UInt8(ascii: ":"))
            JSONValue.array(capability.caveats.map(JSONValue.object)).write(into: &out)
        }
        if resource != nil { out.append(UInt8(ascii: "}")) }
        out.append(UInt8(ascii: "}"))
    }

    /// Whether there is no capability.
    public var isEmpty: Bool { all.isEmpty }

    /// The first capability of `claimed` that none of these covers, or nil when all are covered.
    public func firstUncovered(in claimed: Capabilities) -> Capability? {
        claimed.all.first { wanted in !all.contains { $0.covers(wanted) } }
    }

    /// One step of the path to a value inside a caveat.
    private enum Step {
        case member(String)
        case index(Int)
    }

    /// Refuses an empty array inside a caveat: `[]` is covered by every list, so `{"to": []}` attenuates
    /// `{"to": ["ops@…"]}`, yet a service reading it as "no restriction" would grant more than the parent.
    private static func checkNoEmptyArray(in capability: Capability) throws(UCANError) {
        for (index, caveat) in capability.caveats.enumerated() {
            guard let steps = emptyArray(in: .object(caveat)) else { continue }
            var path: [UInt8] = Array("cap[".utf8)
            JSONValue.writeString(capability.resource, into: &path)
            path.append(contentsOf: "][".utf8)
            JSONValue.writeString(capability.ability, into: &path)
            path.append(contentsOf: "][\(index)]".utf8)
            for step in steps.reversed() {
                switch step {
                case .index(let index):
                    path.append(contentsOf: "[\(index)]".utf8)
                case .member(let name) where !name.isEmpty && name.utf8.allSatisfy(isIdentifier):
                    path.append(UInt8(ascii: "."))
                    path.append(contentsOf: name.utf8)
                case .member(let name):
                    path.append(UInt8(ascii: "["))
                    JSONValue.writeString(name, into: &path)
                    path.append(UInt8(ascii: "]"))
                }
            }
            throw UCANError(
                .invalidField, field: String(decoding: path, as: UTF8.self),
                "must not be an empty array: a service could read an empty list in a caveat as no restriction")
        }
    }

    /// The steps, innermost first, to the first empty array in `value` (members in byte order), or nil.
    /// The path is built only on the way out of a match, so the common caveat `{}` costs no allocation.
    private static func emptyArray(in value: JSONValue) -> [Step]? {
        switch value {
        case .array(let elements):
            if elements.isEmpty { return [] }
            for (index, element) in elements.enumerated() {
                if var steps = emptyArray(in: element) {
                    steps.append(.index(index))
                    return steps
                }
            }
        case .object(let members) where members.count == 1:
            let (name, member) = members.first!
            if var steps = emptyArray(in: member) {
                steps.append(.member(name))
                return steps
            }
        case .object(let members):
            for name in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                if var steps = emptyArray(in: members[name]!) {
                    steps.append(.member(name))
                    return steps
                }
            }
        default:
            break
        }
        return nil
    }

    /// ASCII letters, digits and `_`: a caveat field that the path may write after a dot.
    private static func isIdentifier(_ byte: UInt8) -> Bool {
        isLetter(byte) || (0x30...0x39).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// Printable ASCII or any non-ASCII byte: no spaces or control characters in resources and abilities.
    private static func isVisible(_ byte: UInt8) -> Bool { byte > 0x20 && byte != 0x7F }

    private static func check(resource: String) throws(UCANError) {
        if resource == "*" { return }
        let bytes = resource.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon != bytes.startIndex,
            bytes.index(after: colon) != bytes.endIndex
        else {
            throw UCANError(.invalidField, field: "cap", "resource \(resource) is not a URI")
        }
        // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        let scheme = bytes[..<colon]
        guard isLetter(scheme.first!),
            scheme.allSatisfy({ isLetter($0) || (0x30...0x39).contains($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else {
            throw UCANError(.invalidField, field: "cap", "resource \(resource) has no valid URI scheme")
        }
        guard bytes.allSatisfy(isVisible) else {
            throw UCANError(.invalidField, field: "cap", "resource contains whitespace or control characters")
        }
        guard !scheme.elementsEqual("ucan".utf8, by: { $0 | 0x20 == $1 }) else {
            throw UCANError(.invalidField, field: "cap", "the ucan: resource scheme is reserved")
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte | 0x20) }

    private static func check(ability: String, on resource: String) throws(UCANError) {
        if ability == "*" { return }
        let bytes = ability.utf8
        let slash = UInt8(ascii: "/")
        // namespace/verb[/more]: at least two segments, none empty.
        guard let first = bytes.firstIndex(of: slash), first != bytes.startIndex, bytes.last != slash,
            !zip(bytes, bytes.dropFirst()).contains(where: { $0 == slash && $1 == slash }),
            bytes.allSatisfy(isVisible)
        else {
            throw UCANError(.invalidField, field: "cap", "ability \(ability) on \(resource) is not namespace/verb")
        }
        guard !bytes[..<first].elementsEqual("ucan".utf8) else {
            throw UCANError(.invalidField, field: "cap", "the ucan/ abilities are reserved")
        }
    }
}
