import Foundation
import Synchronization
import UCAN

/// Turns an `Authorization` header into an ``Identity``, in the order DESIGN.md sets: shape and
/// checksum before any lookup, then the IP allowlist before anything else about the key, then
/// revocation and expiry, allowed endpoints, and the rate limit.
///
/// Keys are cached by hash. Every change to a key goes through ``invalidate(_:)``, so a revocation
/// or edit takes effect on the very next request; expiry is judged at each call.
public final class Authenticator: Sendable {
    private let store: any KeyStore & OrganizationStore
    private let clock: CharterClock
    private let usage: UsageTracker
    private let rateLimiter: RateLimiter
    /// Failed attempts per client address (see ``failedAttemptsPerMinute``).
    private let failures = TokenBuckets()
    /// Cached keys by hash; an epoch bumped on every invalidation so a lookup that raced with a change never
    /// caches what it read before the change; and the hashes found to name a key, which stay known when an
    /// edit drops their entry, so the next request with such a key is not throttled as a guess.
    private let cache = Mutex<(entries: [[UInt8]: Identity], epoch: UInt64, known: Set<[UInt8]>)>(([:], 0, []))
    private let cacheLimit: Int

    /// Creates an authenticator.
    /// - Parameter cacheLimit: how many keys to keep; the cache is cleared when it fills.
    public init(
        store: any KeyStore & OrganizationStore, clock: CharterClock, usage: UsageTracker, rateLimiter: RateLimiter,
        cacheLimit: Int = 100_000
    ) {
        self.store = store
        self.clock = clock
        self.usage = usage
        self.rateLimiter = rateLimiter
        self.cacheLimit = cacheLimit
    }

    /// Authenticates a request.
    /// - Parameters:
    ///   - authorization: the `Authorization` header, `Bearer chr_…`.
    ///   - ip: the client address (after trusted-proxy handling).
    ///   - path: the request path, for the key's allowed endpoints.
    /// - Throws: ``AuthenticationFailure`` carrying the 401/403/429 error and the key when known.
    ///
    /// `ip` and `path` are only worked out when needed: for a key with an allowlist or allowed endpoints,
    /// and `ip` also for a key not in the cache or a failed attempt (which count against the address).
    public func authenticate(
        authorization: String?, ip: @autoclosure () -> IPAddress?, path: @autoclosure () -> String
    ) async throws(AuthenticationFailure) -> Identity {
        // The scheme is case-insensitive; OR-ing 0x20 lower-cases ASCII letters and leaves the space alone.
        guard let utf8 = authorization?.utf8, utf8.count > 7,
            utf8.prefix(7).elementsEqual("bearer ".utf8, by: { $0 | 0x20 == $1 })
        else {
            throw AuthenticationFailure(CharterError(.apiKeyMissing, "send the API key as Authorization: Bearer <key>"))
        }
        let presented = Substring(utf8.dropFirst(7))
        do {
            _ = try APIKeySecret.environment(of: presented)
        } catch {
            throw failedAttempt(AuthenticationFailure(error), from: ip())
        }
        return try await authenticate(secretHash: APIKeySecret.hash(of: presented), ip: ip(), path: path())
    }

    /// Authenticates a caller already known by its key's hash, such as a dashboard session, with every check
    /// after the key's shape: lookup, IP allowlist, revocation and expiry, allowed endpoints, rate limit.
    /// - Throws: ``AuthenticationFailure`` carrying the 401/403/429 error and the key when known.
    public func authenticate(
        secretHash: [UInt8], ip: @autoclosure () -> IPAddress?, path: @autoclosure () -> String
    ) async throws(AuthenticationFailure) -> Identity {
        let identity = try await lookup(hash: secretHash, ip: ip())
        let key = identity.key
        if !key.ipAllowlist.isEmpty {
            guard let ip = ip(), key.ipAllowlist.contains(where: { $0.contains(ip) }) else {
                throw AuthenticationFailure(
                    CharterError(.ipNotAllowed, "this key may not be used from this address"), key: key)
            }
        }
        let now = clock.now()
        switch key.status(at: now) {
        case .active: break
        case .revoked:
            throw AuthenticationFailure(CharterError(.apiKeyRevoked, "the API key has been revoked"), key: key)
        case .expired: throw AuthenticationFailure(CharterError(.apiKeyExpired, "the API key has expired"), key: key)
        }
        guard key.allowedEndpoints.isEmpty || key.allows(endpoint: path()) else {
            throw AuthenticationFailure(
                CharterError(.permissionDenied, "this key may not call this endpoint (allowed_endpoints)"), key: key)
        }
        if let limit = key.rateLimitPerMinute,
            let wait = await rateLimiter.take(keyID: key.id, limitPerMinute: limit, at: now)
        {
            throw AuthenticationFailure(
                CharterError(.rateLimited, "this key is over its rate limit of \(limit) per minute", retryAfter: wait),
                key: key)
        }
        identity.usage.record(at: now)
        return identity
    }

    /// Forgets a cached key after it changed; the next request reads it from the store.
    public func invalidate(_ key: APIKey) {
        cache.withLock { cache in
            cache.entries.removeValue(forKey: key.secretHash)
            cache.epoch &+= 1
        }
    }

    /// Forgets a cached key another replica changed; the next request reads it from the store.
    public func forget(keyID: String) {
        cache.withLock { cache in
            cache.entries = cache.entries.filter { $0.value.key.id != keyID }
            cache.epoch &+= 1
        }
    }

    /// Forgets every cached key.
    public func forgetAll() {
        cache.withLock { cache in
            cache.entries.removeAll()
            cache.epoch &+= 1
        }
    }

    /// Adds usage that was just written to the store into the cached keys, so what callers see of
    /// themselves (`/v1/me`) stays exact without evicting hot keys (which would send every in-flight
    /// request to the store at once).
    public func absorb(flushed usage: [String: KeyUsage]) {
        guard !usage.isEmpty else { return }
        cache.withLock { cache in
            for (hash, identity) in cache.entries {
                guard let written = usage[identity.key.id] else { continue }
                var key = identity.key
                key.usageCount += written.count
                key.lastUsedAt = max(key.lastUsedAt ?? written.lastUsedAt, written.lastUsedAt)
                cache.entries[hash] = Identity(key: key, organization: identity.organization, usage: identity.usage)
            }
            // A lookup that read the store before this batch landed must not cache what it read.
            cache.epoch &+= 1
        }
    }

    /// Failed attempts (malformed or unknown keys) one address may make per minute before it is refused
    /// without a lookup; IPv6 addresses count per /64, which one client usually holds whole.
    public static let failedAttemptsPerMinute = 30

    /// Counts a malformed or unknown key against the address it came from; once the address is over its
    /// budget, answers 429 instead, so guessing keys costs the guesser time and the store nothing.
    private func failedAttempt(_ failure: AuthenticationFailure, from ip: IPAddress?) -> AuthenticationFailure {
        // `take` spends one attempt, or, with none left, spends nothing and says how long to wait.
        if let wait = failures.take(
            Self.bucket(for: ip), limitPerMinute: Self.failedAttemptsPerMinute, at: clock.now())
        {
            return Self.tooManyFailures(wait)
        }
        return failure
    }

    private static func bucket(for ip: IPAddress?) -> String {
        guard let ip else { return "unknown" }
        return ip.isIPv4
            ? ip.description : IPAddress(bytes: Array(ip.bytes.prefix(8)) + Array(repeating: 0, count: 8)).description
    }

    private static func tooManyFailures(_ wait: Int) -> AuthenticationFailure {
        AuthenticationFailure(
            CharterError(
                .rateLimited, "too many failed authentication attempts from this address", retryAfter: wait))
    }

    private func lookup(hash: [UInt8], ip: @autoclosure () -> IPAddress?) async throws(AuthenticationFailure)
        -> Identity
    {
        // `known` is only worked out on a miss: a hit, the hot path, looks up one hash once.
        let (cached, epoch, known) = cache.withLock { cache in
            let cached = cache.entries[hash]
            return (cached, cache.epoch, cached == nil && cache.known.contains(hash))
        }
        if let cached { return cached }
        // Only a key not in the cache costs a lookup; an address guessing keys is stopped before it, unless
        // the key is one already seen (its entry was dropped because it changed).
        let address = ip()
        if !known,
            let wait = failures.wait(
                for: Self.bucket(for: address), limitPerMinute: Self.failedAttemptsPerMinute, at: clock.now())
        {
            throw Self.tooManyFailures(wait)
        }
        let invalid = AuthenticationFailure(CharterError(.apiKeyInvalid, "the API key is not valid"))
        let found: Identity
        do {
            guard let key = try await store.key(secretHash: hash),
                // The store matched on the hash; compare again in constant time so no code path
                // ever decides on a secret with an early-exit comparison.
                SecureBytes.constantTimeEquals(key.secretHash, hash),
                let organization = try await store.organization(id: key.orgID)
            else { throw invalid }
            found = Identity(key: key, organization: organization, usage: usage.counter(keyID: key.id))
        } catch let failure as AuthenticationFailure {
            throw failedAttempt(failure, from: address)
        } catch {
            throw AuthenticationFailure(CharterError(.unavailable, "the key store is unavailable"))
        }
        cache.withLock { cache in
            if cache.known.count >= cacheLimit { cache.known.removeAll(keepingCapacity: true) }
            cache.known.insert(hash)
            guard cache.epoch == epoch else { return }
            if cache.entries.count >= cacheLimit { cache.entries.removeAll(keepingCapacity: true) }
            cache.entries[hash] = found
        }
        return found
    }
}
