/// A UCAN 1.0 delegation: `iss` grants `aud` the command `cmd` on subject `sub`, under the policy `pol`.
///
/// A parsed delegation keeps the exact envelope bytes it came from; its CID is computed over those.
public struct Delegation: Sendable, Hashable {
    public let issuer: DID
    public let audience: DID
    /// nil for a powerline (`sub: null`): it stands for whatever subject the chain before it proves.
    public let subject: DID?
    public let command: Command
    public let policy: Policy
    public let nonce: [UInt8]
    public let meta: [String: IPLD]?
    public let notBefore: Int64?
    /// nil: never expires.
    public let expiration: Int64?
    /// The payload tag it was sealed with, such as `ucan/dlg@1.0.0` (or `-rc.1` from other implementations).
    public let tag: String
    /// The envelope, as received or sealed.
    public let bytes: [UInt8]

    /// The CID of the exact envelope bytes (`bafyrei…`).
    public var cid: CID { CID(hashing: bytes, codec: .dagCBOR) }

    /// Builds and signs a delegation; the same fields, nonce and key always give the same bytes.
    /// - Parameters:
    ///   - nonce: random bytes (12 by default), or given for reproducible tokens.
    ///   - key: the issuer's key; the issuer is its DID.
    /// - Throws: ``UCANError`` for a time out of range, `nbf` after `exp`, or a token over the size limit.
    public init(
        issuer key: Ed25519.SigningKey, audience: DID, subject: DID?, command: Command, policy: Policy = .empty,
        nonce: [UInt8] = SecureBytes.random(count: 12), meta: [String: IPLD]? = nil, notBefore: Int64? = nil,
        expiration: Int64?
    ) throws(UCANError) {
        try Self.checkTimes(notBefore: notBefore, expiration: expiration)
        let issuer = DID(publicKey: key.publicKey)
        var payload: [String: IPLD] = [
            "iss": .string(issuer.string), "aud": .string(audience.string),
            "sub": subject.map { .string($0.string) } ?? .null, "cmd": .string(command.path), "pol": policy.ipld,
            "nonce": .bytes(nonce), "exp": expiration.map(IPLD.integer) ?? .null,
        ]
        if let meta { payload["meta"] = .map(meta) }
        if let notBefore { payload["nbf"] = .integer(notBefore) }
        let envelope = Envelope.seal(.delegation, payload: payload, with: key)
        guard envelope.bytes.count <= Limits.default.maxTokenBytes else {
            throw UCANError(.tooLarge, "the delegation would be over \(Limits.default.maxTokenBytes) bytes")
        }
        self.issuer = issuer
        self.audience = audience
        self.subject = subject
        self.command = command
        self.policy = policy
        self.nonce = nonce
        self.meta = meta
        self.notBefore = notBefore
        self.expiration = expiration
        tag = envelope.tag
        self.bytes = envelope.bytes
    }

    /// Parses a delegation envelope and checks its signature.
    /// - Throws: ``UCANError`` naming the first field that is missing, mistyped or invalid, or
    ///   `invalid_signature`.
    public init(bytes: [UInt8], limits: Limits = .default) throws(UCANError) {
        let envelope = try Envelope(bytes: bytes, limits: limits)
        guard envelope.kind == .delegation else {
            throw UCANError(.malformed, "an invocation where a delegation was expected")
        }
        var fields = PayloadFields(envelope.payload)
        issuer = try fields.did("iss")
        audience = try fields.did("aud")
        try fields.requirePresent("sub")
        subject = try fields.optionalDID("sub", nullAllowed: true)
        command = try fields.command()
        policy = try Policy(try fields.any("pol"))
        nonce = try fields.bytes("nonce")
        meta = try fields.optionalMap("meta")
        notBefore = try fields.time("nbf")
        try fields.requirePresent("exp")
        expiration = try fields.time("exp", nullAllowed: true)
        try fields.requireNoOthers()
        try Self.checkTimes(notBefore: notBefore, expiration: expiration)
        tag = envelope.tag
        self.bytes = envelope.bytes
        try envelope.verifySignature(by: issuer)
    }

    static func checkTimes(notBefore: Int64?, expiration: Int64?) throws(UCANError) {
        for (field, time) in [("nbf", notBefore), ("exp", expiration)] {
            if let time, !(0...UCAN.maxTime).contains(time) {
                throw UCANError(.invalidField, field: field, "must be between 0 and 2^53-1")
            }
        }
        if let notBefore, let expiration, notBefore > expiration {
            throw UCANError(.invalidField, field: "nbf", "is after exp")
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}

extension Delegation {
    /// Checks the delegation's time bounds at `now`.
    /// - Throws: ``UCANError`` `expired` or `not_yet_valid`.
    public func checkTime(at now: Int64, leeway: Int64 = 0) throws(UCANError) {
        try TimeBounds.check(notBefore: notBefore, expiration: expiration, now: now, leeway: leeway)
    }
}

/// The one rule for a UCAN 1.0 token's validity period: valid from `nbf` through `exp`, with leeway.
enum TimeBounds {
    /// - Parameter field: the field an error names; nil names `exp` or `nbf` themselves.
    static func check(
        notBefore: Int64?, expiration: Int64?, now: Int64, leeway: Int64, field: String? = nil
    ) throws(UCANError) {
        if let expiration, now > expiration + leeway {
            throw UCANError(.expired, field: field ?? "exp", "expired at \(expiration)")
        }
        if let notBefore, now + leeway < notBefore {
            throw UCANError(.notYetValid, field: field ?? "nbf", "not valid before \(notBefore)")
        }
    }
}
