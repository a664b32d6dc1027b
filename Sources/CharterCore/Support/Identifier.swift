import UCAN

/// Opaque, prefixed, random identifiers such as `key_…`; unguessable so ids leak nothing.
public enum Identifier {
    /// What an identifier names; its prefix.
    public enum Kind: String, Sendable {
        case organization = "org"
        case app = "app"
        case key = "key"
        case envelope = "env"
        case signingKey = "sk"
    }

    /// A new identifier: the kind's prefix, `_`, then 20 characters of base32 (100 random bits).
    public static func make(_ kind: Kind) -> String {
        "\(kind.rawValue)_" + Base32.encode(SecureBytes.random(count: 13)).prefix(20)
    }
}
