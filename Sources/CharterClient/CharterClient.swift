public import CharterHTTP
public import Foundation
import Synchronization
public import UCAN

/// A failed exchange: the server's code with its status, or the client's own (`server_unreachable`,
/// `unexpected_response`, `would_widen`, `identity_unreadable`).
public typealias CharterClientError = CharterHTTP.CharterClientError

/// The agent SDK: exchanges an API key for UCANs through `/v1/authorize`, keeps them fresh, and delegates
/// narrower ones to sub-agents with the agent's own key.
///
/// Tokens are cached per capability set and refreshed in the background once 80% of their lifetime has
/// passed; concurrent requests for the same set share one call; transient failures (unreachable server,
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
    private let cache = Mutex<[Capabilities: Entry]>([:])

    private enum Entry {
        case ready(Minted, refresh: Task<Void, Never>?)
        case pending(Task<Minted, any Error>)
    }

    /// A token with the times the cache needs.
    struct Minted: Sendable {
        let token: UCAN
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

    /// A token for `capabilities`, from the cache while it is fresh, else from `/v1/authorize`.
    public func token(for capabilities: Capabilities) async throws -> UCAN {
        let now = clock.now()
        let lookup: (cached: UCAN?, task: Task<Minted, any Error>?) = cache.withLock { entries in
            switch entries[capabilities] {
            case .ready(let minted, _)? where minted.expiresAt > now:
                return (minted.token, nil)
            case .pending(let task)?:
                return (nil, task)
            case .ready(_, let refresh)?:
                refresh?.cancel()
                fallthrough
            case nil:
                let task = Task { try await self.fetch(capabilities) }
                entries[capabilities] = .pending(task)
                return (nil, task)
            }
        }
        if let cached = lookup.cached { return cached }
        return try await lookup.task!.value.token
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
        let (seconds, attoseconds) = ttl.components
        let expiration =
            Int64(clock.now().timeIntervalSince1970.rounded(.down)) + seconds + (attoseconds > 0 ? 1 : 0)
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
    private func fetch(_ capabilities: Capabilities) async throws -> Minted {
        do {
            let minted = try await authorizeWithRetries(capabilities)
            store(minted, for: capabilities)
            return minted
        } catch {
            cache.withLock { entries in
                if case .pending? = entries[capabilities] { entries[capabilities] = nil }
            }
            throw error
        }
    }

    /// Caches `minted` and schedules its refresh; the entry is in place before the refresh can start.
    private func store(_ minted: Minted, for capabilities: Capabilities) {
        let previous = cache.withLock { entries in
            let refresh = Task { [weak self, clock] in
                try? await clock.sleep(until: minted.refreshAt)
                guard !Task.isCancelled, let self else { return }
                // A failed refresh keeps the current token; callers fetch anew once it has expired.
                if let next = try? await self.authorizeWithRetries(capabilities) { self.store(next, for: capabilities) }
            }
            defer { entries[capabilities] = .ready(minted, refresh: refresh) }
            return entries[capabilities]
        }
        if case .ready(_, let old)? = previous { old?.cancel() }
    }

    private func authorizeWithRetries(_ capabilities: Capabilities) async throws -> Minted {
        var delay = retry.initialDelay
        var attempt = 1
        while true {
            do {
                return try await authorize(capabilities)
            } catch let error as CharterClientError where error.isTransient && attempt < retry.attempts {
                let wait = min(error.retryAfter.map { Duration.seconds($0) } ?? delay, retry.maxDelay)
                try await clock.sleep(until: clock.now().addingTimeInterval(Self.seconds(wait)))
                delay = min(delay * 2, retry.maxDelay)
                attempt += 1
            }
        }
    }

    private func authorize(_ capabilities: Capabilities) async throws -> Minted {
        var body: JSONObject = ["audience": .string(did.string), "capabilities": capabilities.json]
        if let ttlSeconds { body["ttl_seconds"] = .integer(Int64(ttlSeconds)) }
        let issuedAt = clock.now()
        let json = try await http.send("POST", "/v1/authorize", bearer: apiKey, json: body).object()
        guard let text = json["token"]?.stringValue, let token = try? UCAN(parsing: text),
            token.payload.audience == did, let expiration = token.payload.expiration
        else {
            throw CharterClientError(code: "unexpected_response", message: "the answer holds no token for \(did)")
        }
        return Minted(
            token: token, issuedAt: issuedAt, expiresAt: Date(timeIntervalSince1970: TimeInterval(expiration)))
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
