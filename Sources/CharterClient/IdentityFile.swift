import Foundation
import UCAN

#if canImport(Glibc)
    import Glibc
#endif

/// The agent's key on disk: `{"did", "secret_key"}` (base64 of libsodium's 64-byte secret key), the form
/// `charter ucan keygen` prints, readable by its owner only.
enum IdentityFile {
    static func loadOrCreate(_ url: URL) throws(CharterClientError) -> Ed25519.SigningKey {
        if let data = FileManager.default.contents(atPath: url.path) { return try load(data, from: url) }
        return try create(url)
    }

    private static func load(_ data: Data, from url: URL) throws(CharterClientError) -> Ed25519.SigningKey {
        guard case .object(let object)? = try? JSONParser.parse(Array(data)),
            let text = object["secret_key"]?.stringValue, var secret = Data(base64Encoded: text).map(Array.init),
            let key = try? Ed25519.SigningKey(secretKey: secret)
        else {
            throw CharterClientError(code: "identity_unreadable", message: "\(url.path) holds no Ed25519 key")
        }
        SecureBytes.zero(&secret)
        if let did = object["did"]?.stringValue, did != DID(publicKey: key.publicKey).string {
            throw CharterClientError(code: "identity_unreadable", message: "\(url.path): did does not match the key")
        }
        return key
    }

    /// Writes a new key with `O_EXCL`, so two processes starting at once cannot both create one.
    private static func create(_ url: URL) throws(CharterClientError) -> Ed25519.SigningKey {
        let key = Ed25519.SigningKey()
        var secret = key.exportSecretKey()
        defer { SecureBytes.zero(&secret) }
        var text = Array(
            JSONValue.object([
                "did": .string(DID(publicKey: key.publicKey).string),
                "secret_key": .string(Data(secret).base64EncodedString()),
            ]).serialized())
        defer { SecureBytes.zero(&text) }
        try? FileManager.default.createDirectory(
            at: url.deletingLastPathComponent(), withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            // Another process won the race: use its key.
            if errno == EEXIST, let data = FileManager.default.contents(atPath: url.path) {
                return try load(data, from: url)
            }
            throw CharterClientError(
                code: "identity_unreadable", message: "cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == text.count, fsync(descriptor) == 0 else {
            unlink(url.path)
            throw CharterClientError(code: "identity_unreadable", message: "cannot write \(url.path)")
        }
        return key
    }
}
