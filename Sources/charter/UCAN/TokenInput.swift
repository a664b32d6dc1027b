import ArgumentParser
import Foundation
import UCAN

/// A token as the command line carries it: a UCAN 0.10 JWT (three dot-separated parts), or a UCAN 1.0
/// envelope in standard base64, padded or not. Base64 has no dot, so the two cannot be confused.
enum TokenInput {
    case jwt(String)
    case envelope([UInt8])

    init(_ text: String, option: String = "token") throws {
        if text.contains(".") {
            self = .jwt(text)
            return
        }
        var padded = text
        while padded.utf8.count % 4 != 0 { padded += "=" }
        guard let data = Data(base64Encoded: padded), !data.isEmpty else {
            throw ValidationError("\(option) is neither a UCAN 0.10 JWT nor base64 of a UCAN 1.0 envelope")
        }
        self = .envelope(Array(data))
    }

    /// The form a 1.0 token is printed in: standard base64, padded.
    static func print(_ envelope: [UInt8]) -> String { Data(envelope).base64EncodedString() }
}

/// A signing key given on the command line: base64 of a 64-byte libsodium secret key, a 32-byte seed, or the
/// multicodec form the UCAN 1.0 fixtures use (varint 0x1300, ed25519-priv, then the 32-byte seed).
func signingKey(base64 text: String, option: String = "--issuer-key") throws -> Ed25519.SigningKey {
    guard var bytes = Data(base64Encoded: text).map(Array.init) else {
        throw ValidationError("\(option) is not base64")
    }
    defer { SecureBytes.zero(&bytes) }
    switch bytes.count {
    case Ed25519.seedByteCount: return try Ed25519.SigningKey(seed: bytes)
    case Ed25519.secretKeyByteCount: return try Ed25519.SigningKey(secretKey: bytes)
    case Ed25519.seedByteCount + 2 where bytes[0] == 0x80 && bytes[1] == 0x26:
        var seed = Array(bytes[2...])
        defer { SecureBytes.zero(&seed) }
        return try Ed25519.SigningKey(seed: seed)
    default:
        throw ValidationError(
            "\(option) must decode to a 32-byte seed, a 64-byte secret key or a multicodec ed25519-priv key")
    }
}

/// An expiry option: Unix seconds or `never`.
func parseExpiration(_ text: String, option: String = "--expiration") throws -> Int64? {
    if text == "never" { return nil }
    guard let seconds = Int64(text) else { throw ValidationError("\(option) must be Unix seconds or 'never'") }
    return seconds
}

/// An option's value as DAG-JSON (JSON, with `{"/": …}` for bytes and links).
func dagJSON(_ text: String, option: String) throws -> IPLD {
    do {
        return try DAGJSON.decode(Array(text.utf8))
    } catch {
        throw ValidationError("\(option) is not DAG-JSON: \(error)")
    }
}

/// An option's value as a DAG-JSON map.
func dagJSONMap(_ text: String, option: String) throws -> [String: IPLD] {
    guard case .map(let map) = try dagJSON(text, option: option) else {
        throw ValidationError("\(option) must be a JSON object")
    }
    return map
}

/// A nonce option: standard base64 of the bytes.
func parseNonce(_ text: String?) throws -> [UInt8]? {
    guard let text else { return nil }
    guard let data = Data(base64Encoded: text) else { throw ValidationError("--nonce must be base64") }
    return Array(data)
}
