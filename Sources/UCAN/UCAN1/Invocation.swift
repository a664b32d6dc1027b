/// A UCAN 1.0 invocation: `iss` asks the executor to run `cmd` with `args` on `sub`, proven by the delegations
/// `prf` cites, root first.
///
/// Signed by the invoker itself, so presenting one proves possession of the key a delegation was made out to.
public struct Invocation: Sendable, Hashable {
    public let issuer: DID
    public let subject: DID
    /// The executor, when it is not the subject.
    public let audience: DID?
    public let command: Command
    public let arguments: [String: IPLD]
    /// The delegations proving the invoker's authority, from the root (issued by the subject) to the one made
    /// out to the invoker.
    public let proofs: [CID]
    public let meta: [String: IPLD]?
    public let nonce: [UInt8]
    /// nil: never expires (the spec allows it; executors should want a bound).
    public let expiration: Int64?
    public let issuedAt: Int64?
    /// The receipt that enqueued this task, if any.
    public let cause: CID?
    /// The payload tag it was sealed with.
    public let tag: String
    /// The envelope, as received or sealed.
    public let bytes: [UInt8]

    /// The CID of the exact envelope bytes (`bafyrei…`): what a replay cache remembers.
    public var cid: CID { CID(hashing: bytes, codec: .dagCBOR) }

    /// Builds and signs an invocation with the invoker's own key.
    /// - Throws: ``UCANError`` for a time out of range or a token over the size limit.
    public init(
        issuer key: Ed25519.SigningKey, subject: DID, audience: DID? = nil, command: Command,
        arguments: [String: IPLD] = [:], proofs: [CID], nonce: [UInt8] = SecureBytes.random(count: 12),
        meta: [String: IPLD]? = nil, expiration: Int64?, issuedAt: Int64? = nil, cause: CID? = nil
    ) throws(UCANError) {
        try Delegation.checkTimes(notBefore: nil, expiration: expiration)
        if let issuedAt, !(0...UCAN.maxTime).contains(issuedAt) {
            throw UCANError(.invalidField, field: "iat", "must be between 0 and 2^53-1")
        }
        let issuer = DID(publicKey: key.publicKey)
        var payload: [String: IPLD] = [
            "iss": .string(issuer.string), "sub": .string(subject.string),
            "cmd": .string(command.path), "args": .map(arguments), "prf": .list(proofs.map(IPLD.link)),
            "nonce": .bytes(nonce), "exp": expiration.map(IPLD.integer) ?? .null,
        ]
        if let audience { payload["aud"] = .string(audience.string) }
        if let meta { payload["meta"] = .map(meta) }
        if let issuedAt { payload["iat"] = .integer(issuedAt) }
        if let cause { payload["cause"] = .link(cause) }
        let envelope = Envelope.seal(.invocation, payload: payload, with: key)
        guard envelope.bytes.count <= Limits.default.maxTokenBytes else {
            throw UCANError(.tooLarge, "the invocation would be over \(Limits.default.maxTokenBytes) bytes")
        }
        self.issuer = issuer
        self.subject = subject
        self.audience = audience
        self.command = command
        self.arguments = arguments
        self.proofs = proofs
        self.meta = meta
        self.nonce = nonce
        self.expiration = expiration
        self.issuedAt = issuedAt
        self.cause = cause
        tag = envelope.tag
        self.bytes = envelope.bytes
    }

    /// Parses an invocation envelope and checks its signature.
    /// - Throws: ``UCANError`` naming the first field that is missing, mistyped or invalid, or
    ///   `invalid_signature`.
    public init(bytes: [UInt8], limits: Limits = .default) throws(UCANError) {
        let envelope = try Envelope(bytes: bytes, limits: limits)
        guard envelope.kind == .invocation else {
            throw UCANError(.malformed, "a delegation where an invocation was expected")
        }
        var fields = PayloadFields(envelope.payload)
        issuer = try fields.did("iss")
        subject = try fields.did("sub")
        audience = try fields.optionalDID("aud")
        command = try fields.command()
        arguments = try fields.map("args")
        proofs = try fields.links("prf")
        meta = try fields.optionalMap("meta")
        nonce = try fields.bytes("nonce")
        try fields.requirePresent("exp")
        expiration = try fields.time("exp", nullAllowed: true)
        issuedAt = try fields.time("iat")
        cause = try fields.optionalLink("cause")
        try fields.requireNoOthers()
        tag = envelope.tag
        self.bytes = envelope.bytes
        try envelope.verifySignature(by: issuer)
    }

    /// Whether `bytes` are an invocation envelope (rather than a delegation), without validating anything else.
    public static func isInvocation(_ bytes: [UInt8]) -> Bool {
        (try? Envelope(bytes: bytes))?.kind == .invocation
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
