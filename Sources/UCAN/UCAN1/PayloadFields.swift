/// Reads a 1.0 payload's fields strictly: each field's type checked, every field accounted for.
struct PayloadFields {
    private var fields: [String: IPLD]

    init(_ fields: [String: IPLD]) { self.fields = fields }

    /// The field, which must be present.
    private mutating func take(_ name: String) throws(UCANError) -> IPLD {
        guard let value = fields.removeValue(forKey: name) else {
            throw UCANError(.missingField, field: name, "is required")
        }
        return value
    }

    mutating func did(_ name: String) throws(UCANError) -> DID {
        guard case .string(let text) = try take(name) else { throw Self.invalid(name, "a DID") }
        return try DID(text, field: name)
    }

    mutating func optionalDID(_ name: String, nullAllowed: Bool = false) throws(UCANError) -> DID? {
        switch fields.removeValue(forKey: name) {
        case nil: return nil
        case .null? where nullAllowed: return nil
        case .string(let text)?: return try DID(text, field: name)
        default: throw Self.invalid(name, "a DID")
        }
    }

    /// A field that must be present and may be null, such as `sub` (powerline) or `exp` (never expires).
    func requirePresent(_ name: String) throws(UCANError) {
        guard fields[name] != nil else { throw UCANError(.missingField, field: name, "is required") }
    }

    mutating func command() throws(UCANError) -> Command {
        guard case .string(let text) = try take("cmd") else { throw Self.invalid("cmd", "a command") }
        return try Command(text)
    }

    mutating func bytes(_ name: String) throws(UCANError) -> [UInt8] {
        guard case .bytes(let bytes) = try take(name) else { throw Self.invalid(name, "bytes") }
        return bytes
    }

    mutating func map(_ name: String) throws(UCANError) -> [String: IPLD] {
        guard case .map(let map) = try take(name) else { throw Self.invalid(name, "a map") }
        return map
    }

    mutating func optionalMap(_ name: String) throws(UCANError) -> [String: IPLD]? {
        guard let value = fields.removeValue(forKey: name) else { return nil }
        guard case .map(let map) = value else { throw Self.invalid(name, "a map") }
        return map
    }

    mutating func any(_ name: String) throws(UCANError) -> IPLD { try take(name) }

    /// A time in seconds; `nil` when absent, or when null and `nullAllowed`.
    mutating func time(_ name: String, nullAllowed: Bool = false) throws(UCANError) -> Int64? {
        switch fields.removeValue(forKey: name) {
        case nil: return nil
        case .null? where nullAllowed: return nil
        case .integer(let value)? where (0...UCAN.maxTime).contains(value): return value
        default: throw UCANError(.invalidField, field: name, "must be an integer between 0 and 2^53-1")
        }
    }

    mutating func links(_ name: String) throws(UCANError) -> [CID] {
        guard case .list(let items) = try take(name) else { throw Self.invalid(name, "a list of CIDs") }
        var links: [CID] = []
        for (index, item) in items.enumerated() {
            guard case .link(let cid) = item, cid.codec == .dagCBOR, cid.hasher == .sha256 else {
                throw UCANError(
                    .invalidField, field: "\(name)[\(index)]", "must be the DAG-CBOR sha2-256 CID of a delegation")
            }
            links.append(cid)
        }
        return links
    }

    mutating func optionalLink(_ name: String) throws(UCANError) -> CID? {
        guard let value = fields.removeValue(forKey: name) else { return nil }
        guard case .link(let cid) = value else { throw Self.invalid(name, "a CID") }
        return cid
    }

    /// Refuses fields the spec does not define, as 0.10 payloads are refused: a token means only what is read.
    func requireNoOthers() throws(UCANError) {
        if let unknown = fields.keys.min() {
            throw UCANError(.invalidField, field: unknown, "is not a field of this payload")
        }
    }

    private static func invalid(_ name: String, _ kind: String) -> UCANError {
        UCANError(.invalidField, field: name, "must be \(kind)")
    }
}
