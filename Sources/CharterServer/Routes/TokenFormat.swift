import CharterCore

/// The token `/v1/authorize` mints: a UCAN 0.10 root token (the default) or a UCAN 1.0 delegation.
enum TokenFormat: String, CaseIterable {
    case ucan010 = "ucan/0.10"
    case ucan1 = "ucan/1.0"

    /// The request fields of every format.
    static let fields = Set(["format", "audience", "ttl_seconds", "envelope_id"] + allCases.flatMap(\.ownFields))

    /// The request fields only this format has.
    var ownFields: [String] {
        switch self {
        case .ucan010: ["capabilities", "facts"]
        case .ucan1: ["command", "policy", "meta"]
        }
    }

    /// - Throws: ``CharterError`` `validation_failed` for a format Charter does not mint.
    init(_ name: String?) throws(CharterError) {
        guard let format = TokenFormat(rawValue: name ?? TokenFormat.ucan010.rawValue) else {
            throw CharterError.invalid("format", "must be ucan/0.10 or ucan/1.0")
        }
        self = format
    }

    /// Refuses a field of another format, so a request never silently loses what it asked for.
    func refuseOthersFields(in body: JSONBody) throws(CharterError) {
        for other in Self.allCases where other != self {
            if let field = other.ownFields.first(where: body.has) {
                throw CharterError.invalid(field, "is not a field of a \(rawValue) request")
            }
        }
    }
}
