public import Foundation

/// Every rule about how long what Charter signs lives, in one place: the bounds of an envelope's longest
/// lifetime, the lifetime a mint gets, and how long a revocation entry or a retired issuer must outlast the
/// tokens it covers. The services ask this type; none keeps a number of its own.
public enum TokenLifetimePolicy {
    /// The longest lifetime an envelope may allow: one day. Tokens are meant to be short-lived.
    public static let longestEnvelopeTTL = 86_400
    /// The lifetime of a token when the request names none (or less, if the envelope allows less).
    public static let defaultTTL = 900
    /// Extra time a retired issuer stays published, past the longest token lifetime, for clock leeway.
    public static let retirementGrace: TimeInterval = 300
    /// How long a revocation stays in the feed after the last token it covers expired, for verifiers' clock
    /// leeway.
    public static let feedGrace: TimeInterval = 300

    /// Checks an envelope's `max_ttl_seconds`.
    public static func validateEnvelopeTTL(_ seconds: Int) throws(CharterError) {
        guard (1...longestEnvelopeTTL).contains(seconds) else {
            throw CharterError.invalid("max_ttl_seconds", "must be 1...\(longestEnvelopeTTL)")
        }
    }

    /// The lifetime a mint under `envelope` gets for a request naming `requested` seconds (or none):
    /// at least one second, and at most what the envelope allows (`ttl_too_long` beyond).
    public static func mintTTL(requested: Int?, envelope: Envelope) throws(CharterError) -> Int {
        if let requested, requested < 1 { throw CharterError.invalid("ttl_seconds", "must be at least 1") }
        let ttl = requested ?? min(defaultTTL, envelope.maxTTLSeconds)
        guard ttl <= envelope.maxTTLSeconds else {
            throw CharterError(
                .ttlTooLong, "ttl_seconds: the envelope allows at most \(envelope.maxTTLSeconds) seconds",
                field: "ttl_seconds")
        }
        return ttl
    }

    /// The `exp` of a token minted at `now` for `ttl` seconds: whole seconds, never later than asked.
    public static func expiration(mintedAt now: Date, ttl: Int) -> Int64 {
        Int64(now.timeIntervalSince1970.rounded(.down)) + Int64(ttl)
    }

    /// Until when the revocation of `envelope` at `now` must be listed: every token minted under it was
    /// minted before now, so none outlives now plus the envelope's longest lifetime.
    public static func envelopeRevocationCovers(_ envelope: Envelope, revokedAt now: Date) -> Date {
        now.addingTimeInterval(TimeInterval(envelope.maxTTLSeconds))
    }

    /// The feed lists, and the store keeps, the revocations whose coverage ends after this time.
    public static func revocationsListed(at now: Date) -> Date { now.addingTimeInterval(-feedGrace) }

    /// Until when the revocation of one token must be listed: until it expires.
    public static func tokenRevocationCovers(_ token: MintedToken) -> Date { token.expiresAt }

    /// Until when an issuer retired at `now` must still verify, given the longest lifetime of the envelopes
    /// in its environment.
    public static func retiredIssuerVerifies(retiredAt now: Date, longestEnvelopeTTL longest: Int) -> Date {
        now.addingTimeInterval(TimeInterval(longest) + retirementGrace)
    }
}
