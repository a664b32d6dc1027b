public import CharterHTTP
public import Foundation
import Synchronization
public import UCAN

/// A failed exchange: the server's code with its status, or the client's own (`server_unreachable`,
/// `unexpected_response`, `would_widen`, `identity_unreadable`).
public typealias CharterClientError = CharterHTTP.CharterClientError

/// The agent SDK: exchanges an API key for UCANs through `/v1/authorize` (0.10 tokens and 1.0 delegations),
/// keeps them fresh, signs 1.0 invocations, and delegates narrower grants to sub-agents with the agent's own key.
///
/// Tokens are cached per capability set, delegations per command and policy, and refreshed in the background
/// once 80% of their lifetime has passed; concurrent requests for the same grant share one call; transient failures (unreachable server,
/// 5xx, 429) are retried with exponential backoff, while a refusal (401, 403, 4xx) surfaces at once as a
/// ``CharterClientError`` carrying the server's code.
public final class CharterClient: Sendable {
    /// Where the agent's identity comes from.
    public enum Identity: Sendable {
        /// This key.
        case key(Ed25519.SigningKey)
        /// The key in this file (`{"did", "secret_key"}`, as `charter ucan keygen` prints), generated and saved
        /// with mode 0600 the first time.
        case file(URL)

        /// `~/.charter/agent-identity.json`.
        public static var defaultFile: Identity {
            .file(
                FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".charter")
                    .appendingPathComponent("agent-identity.json"))
        }
    }

    /// How hard to try before giving up on a transient failure.
    public struct RetryPolicy: Sendable {
        public var attempts: Int
        public var initialDelay: Duration
        public var maxDelay: Duration

        public init(attempts: Int = 5, initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(5)) {
            self.attempts = attempts
            self.initialDelay = initialDelay
            self.maxDelay = maxDelay
        }
    }

    /// The agent's signing key.
    public let identity: Ed25519.SigningKey
    /// The agent's `did:key`: the audience of every token minted for it.
    public let did: DID

    private let apiKey: String
    private let ttlSeconds: Int?
    private let retry: RetryPolicy
    private let clock: any ClientClock
    private let http: CharterHTTPClient
    private let cache = Mutex<[Grant: Entry]>([:])

    private enum Entry {
        case ready(Minted, refresh: Task<Void, Never>?)
        case pending(Task<Minted, any Error>)
    }

    /// What a credential is minted for: the cache's key.
    enum Grant: Hashable, Sendable {
        /// A UCAN 0.10 token of these capabilities.
        case capabilities(Capabilities)
        /// A UCAN 1.0 delegation of this command, narrowed by this policy.
        case command(Command, policy: Policy)
    }

    /// A minted credential with the times the cache needs.
    struct Minted: Sendable {
        enum Credential: Sendable {
            case token(UCAN)
            case delegation(Delegation)
        }

        let credential: Credential
        let issuedAt: Date
        let expiresAt: Date
        /// When 80% of the lifetime has passed.
        var refreshAt: Date { issuedAt.addingTimeInterval(expiresAt.timeIntervalSince(issuedAt) * 0.8) }
    }

    /// - Parameters:
    ///   - server: Charter's base URL.
    ///   - apiKey: a key holding `token.authorize` (an `agent` key).
    ///   - identity: the agent's own key, by default generated once into `~/.charter/agent-identity.json`.
    ///   - ttlSeconds: the lifetime to ask for; nil leaves it to the server (within the envelope).
    ///   - clock: where refreshes and retries read the time and wait.
    /// - Throws: ``CharterClientError`` `identity_unreadable` when an identity file exists but holds no key.
    public init(
        server: URL, apiKey: String, identity: Identity = .defaultFile, ttlSeconds: Int? = nil,
        retry: RetryPolicy = RetryPolicy(), clock: any ClientClock = .system
    ) throws {
        self.apiKey = apiKey
        self.ttlSeconds = ttlSeconds
        self.retry = retry
        self.clock = clock
        switch identity {
        case .key(let key): self.identity = key
        case .file(let url): self.identity = try IdentityFile.loadOrCreate(url)
        }
        did = DID(publicKey: self.identity.publicKey)
        http = CharterHTTPClient(server: server)
    }

    deinit {
        cache.withLock { entries in
            for entry in entries.values {
                if case .ready(_, let refresh) = entry { refresh?.cancel() }
            }
        }
        http.close(cancelling: true)
    }

    /// A UCAN 0.10 token for `capabilities`, from the cache while it is fresh, else from `/v1/authorize`.
    public func token(for capabilities: Capabilities) async throws -> UCAN {
        guard case .token(let token) = try await minted(.capabilities(capabilities)).credential else {
            throw CharterClientError(code: "unexpected_response", message: "the answer holds no UCAN 0.10 token")
        }
        return token
    }

    /// A UCAN 1.0 delegation of `command` to this agent, from the cache while it is fresh, else from
    /// `/v1/authorize`: Charter's issuer grants it under the envelope grant's policy and `policy` (which can only
    /// narrow it).
    public func delegation(for command: Command, policy: Policy = .empty) async throws -> Delegation {
        guard case .delegation(let delegation) = try await minted(.command(command, policy: policy)).credential else {
            throw CharterClientError(code: "unexpected_response", message: "the answer holds no UCAN 1.0 delegation")
        }
        return delegation
    }

    /// Signs a fresh UCAN 1.0 invocation of `command` with the agent's own key, for one call to `audience`,
    /// citing the agent's delegation for the command (fetched or cached as ``delegation(for:policy:)`` does).
    /// - Parameters:
    ///   - arguments: the call's `args`, which every policy on the chain must allow.
    ///   - audience: the service's DID, the invocation's `aud`.
    ///   - ttl: how long the invocation may be presented: short, since a service refuses a second presentation
    ///     anyway and rejects long-lived ones (5 minutes by default).
    ///   - policy: the statements the delegation was asked with.
    public func invocation(
        _ command: Command, arguments: [String: IPLD] = [:], audience: DID, ttl: Duration = .seconds(60),
        policy: Policy = .empty
    ) async throws -> SignedInvocation {
        let delegation = try await delegation(for: command, policy: policy)
        return try SignedInvocation(
            signing: command, arguments: arguments, audience: audience, chain: [delegation], with: identity,
            expiration: Self.expiration(after: ttl, from: clock.now()))
    }

    /// Signs a UCAN 1.0 delegation to a sub-agent with the agent's own key: `command` (the parent's or one below
    /// it) under `policy`, which the sub-agent's invocations must satisfy beside every policy above it, so it
    /// can only narrow what the agent holds.
    /// - Parameters:
    ///   - proof: the agent's delegation to narrow; by default its delegation for `command` from Charter.
    /// - Throws: ``CharterClientError`` `would_widen` when `proof` is not made out to this agent, does not prove
    ///   `command`, or expires before `ttl` would.
    public func delegate(
        _ command: Command, policy: Policy = .empty, to audience: DID, ttl: Duration, from proof: Delegation? = nil
    ) async throws -> Delegation {
        let parent: Delegation
        if let proof {
            parent = proof
        } else {
            parent = try await delegation(for: command)
        }
        guard parent.audience == did else {
            throw CharterClientError(code: "would_widen", message: "the proof is made out to \(parent.audience)")
        }
        guard parent.command.proves(command) else {
            throw CharterClientError(code: "would_widen", message: "\(parent.command) does not prove \(command)")
        }
        let expiration = Self.expiration(after: ttl, from: clock.now())
        if let limit = parent.expiration, expiration > limit {
            throw CharterClientError(
                code: "would_widen", message: "a lifetime of \(ttl) would outlive the proof, which expires at \(limit)")
        }
        return try Delegation(
            issuer: identity, audience: audience, subject: parent.subject, command: command, policy: policy,
            nonce: SecureBytes.random(count: 16), notBefore: parent.notBefore, expiration: expiration)
    }

    /// A credential for `grant`, from the cache while it is fresh, else from `/v1/authorize` (one call for every
    /// concurrent caller).
    private func minted(_ grant: Grant) async throws -> Minted {
        let now = clock.now()
        let lookup: (cached: Minted?, task: Task<Minted, any Error>?) = cache.withLock { entries in
            switch entries[grant] {
            case .ready(let minted, _)? where minted.expiresAt > now:
                return (minted, nil)
            case .pending(let task)?:
                return (nil, task)
            case .ready(_, let refresh)?:
                refresh?.cancel()
                fallthrough
            case nil:
                let task = Task { try await self.fetch(grant) }
                entries[grant] = .pending(task)
                return (nil, task)
            }
        }
        if let cached = lookup.cached { return cached }
        return try await lookup.task!.value
    }

    /// Signs a token for `audience` with the agent's own key, citing `proof` (by default the agent's token
    /// for the same capabilities).
    /// - Throws: ``CharterClientError`` `would_widen` when `proof` does not cover every capability, is not
    ///   addressed to this agent, or expires before `ttl` would.
    public func delegate(_ capabilities: Capabilities, to audience: DID, ttl: Duration, from proof: UCAN? = nil)
        async throws -> UCAN
    {
        let parent: UCAN
        if let proof {
            parent = proof
        } else {
            parent = try await token(for: capabilities)
        }
        guard parent.payload.audience == did else {
            throw CharterClientError(
                code: "would_widen", message: "the proof is addressed to \(parent.payload.audience)")
        }
        if let uncovered = parent.payload.capabilities.firstUncovered(in: capabilities) {
            throw CharterClientError(code: "would_widen", message: "\(uncovered) is not covered by the proof")
        }
        let expiration = Self.expiration(after: ttl, from: clock.now())
        if let limit = parent.payload.expiration, expiration > limit {
            throw CharterClientError(
                code: "would_widen", message: "a lifetime of \(ttl) would outlive the proof, which expires at \(limit)")
        }
        return try UCAN(
            signing: Payload(
                issuer: did, audience: audience, notBefore: parent.payload.notBefore, expiration: expiration,
                nonce: Base64URL.encode(SecureBytes.random(count: 16)), capabilities: capabilities,
                proofs: [parent.cid]),
            with: identity)
    }

    /// Mints, caches and schedules the refresh; on failure forgets the pending entry so the next call retries.
    private func fetch(_ grant: Grant) async throws -> Minted {
        do {
            let minted = try await authorizeWithRetries(grant)
            store(minted, for: grant)
            return minted
        } catch {
            cache.withLock { entries in
                if case .pending? = entries[grant] { entries[grant] = nil }
            }
            throw error
        }
    }

    /// Caches `minted` and schedules its refresh; the entry is in place before the refresh can start.
    private func store(_ minted: Minted, for grant: Grant) {
        let previous = cache.withLock { entries in
            let refresh = Task { [weak self, clock] in
                try? await clock.sleep(until: minted.refreshAt)
                guard !Task.isCancelled, let self else { return }
                // A failed refresh keeps the current credential; callers fetch anew once it has expired.
                if let next = try? await self.authorizeWithRetries(grant) { self.store(next, for: grant) }
            }
            defer { entries[grant] = .ready(minted, refresh: refresh) }
            return entries[grant]
        }
        if case .ready(_, let old)? = previous { old?.cancel() }
    }

    private func authorizeWithRetries(_ grant: Grant) async throws -> Minted {
        var delay = retry.initialDelay
        var attempt = 1
        while true {
            do {
                return try await authorize(grant)
            } catch let error as CharterClientError where error.isTransient && attempt < retry.attempts {
                let wait = min(error.retryAfter.map { Duration.seconds($0) } ?? delay, retry.maxDelay)
                try await clock.sleep(until: clock.now().addingTimeInterval(Self.seconds(wait)))
                delay = min(delay * 2, retry.maxDelay)
                attempt += 1
            }
        }
    }

    private func authorize(_ grant: Grant) async throws -> Minted {
        var body: JSONObject = ["audience": .string(did.string)]
        switch grant {
        case .capabilities(let capabilities):
            body["capabilities"] = capabilities.json
        case .command(let command, let policy):
            body["format"] = "ucan/1.0"
            body["command"] = .string(command.path)
            if !policy.statements.isEmpty {
                guard let json = try? JSONParser.parse(DAGJSON.encode(policy.ipld), maxDepth: 128) else {
                    throw CharterClientError(code: "invalid_policy", message: "the policy cannot be sent as JSON")
                }
                body["policy"] = json
            }
        }
        if let ttlSeconds { body["ttl_seconds"] = .integer(Int64(ttlSeconds)) }
        let issuedAt = clock.now()
        let json = try await http.send("POST", "/v1/authorize", bearer: apiKey, json: body).object()
        let text = json["token"]?.stringValue ?? ""
        let credential: Minted.Credential
        let expiration: Int64?
        switch grant {
        case .capabilities:
            guard let token = try? UCAN(parsing: text), token.payload.audience == did else {
                throw CharterClientError(code: "unexpected_response", message: "the answer holds no token for \(did)")
            }
            (credential, expiration) = (.token(token), token.payload.expiration)
        case .command(let command, _):
            guard let bytes = Data(base64Encoded: text), let delegation = try? Delegation(bytes: Array(bytes)),
                delegation.audience == did, delegation.command == command
            else {
                throw CharterClientError(
                    code: "unexpected_response", message: "the answer holds no delegation of \(command) for \(did)")
            }
            (credential, expiration) = (.delegation(delegation), delegation.expiration)
        }
        guard let expiration else {
            throw CharterClientError(code: "unexpected_response", message: "the answer's credential never expires")
        }
        return Minted(
            credential: credential, issuedAt: issuedAt,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(expiration)))
    }

    /// Whole seconds since the epoch, `ttl` after `now`, rounded up.
    private static func expiration(after ttl: Duration, from now: Date) -> Int64 {
        let (seconds, attoseconds) = ttl.components
        return Int64(now.timeIntervalSince1970.rounded(.down)) + seconds + (attoseconds > 0 ? 1 : 0)
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
