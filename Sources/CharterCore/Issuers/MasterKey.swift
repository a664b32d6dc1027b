import Foundation
public import UCAN

#if canImport(Glibc)
    import Glibc
#endif

/// The key that seals signing keys, kept outside the database: `CHARTER_MASTER_KEY` or a file only its owner
/// can read. Both hold 32 random bytes in standard base64 (`openssl rand -base64 32`).
public enum MasterKey {
    public static let environmentVariable = "CHARTER_MASTER_KEY"

    /// Why no master key could be had; safe to print, never containing key material.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The default file for a SQLite database: beside it, named after it.
    public static func defaultFile(forDatabase path: String) -> String { path + ".master-key" }

    /// Reads `CHARTER_MASTER_KEY` when it is set, else `file`, which is created (mode 0600) when missing and
    /// `create` is true.
    /// - Parameter file: nil when the key may only come from the environment (replicas sharing a database).
    public static func load(environment: [String: String], file: String?, create: Bool) throws(Failure)
        -> SecretBox.Key
    {
        if let text = environment[environmentVariable] {
            return try decode(text, source: environmentVariable)
        }
        guard let file else {
            throw Failure(
                description: """
                    replicas sharing a database need the same master key: set \(environmentVariable) or pass \
                    --master-key-file (make one with: openssl rand -base64 32)
                    """)
        }
        var status = stat()
        if stat(file, &status) != 0 {
            guard errno == ENOENT, create else {
                throw Failure(
                    description: errno == ENOENT
                        ? "the master key file \(file) is missing, but the database holds signing keys sealed under it; restore the file or set \(environmentVariable)"
                        : "cannot read the master key file \(file): \(String(cString: strerror(errno)))")
            }
            return try createFile(file)
        }
        guard status.st_mode & 0o077 == 0 else {
            throw Failure(description: "the master key file \(file) is readable by others; run chmod 600 on it")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failure(description: "cannot read the master key file \(file)")
        }
        return try decode(String(decoding: data, as: UTF8.self), source: file)
    }

    private static func decode(_ text: String, source: String) throws(Failure) -> SecretBox.Key {
        guard var bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)).map(Array.init),
            bytes.count == SecretBox.keyByteCount
        else {
            throw Failure(description: "\(source) is not 32 bytes in base64 (make one with: openssl rand -base64 32)")
        }
        defer { SecureBytes.zero(&bytes) }
        return try! SecretBox.Key(bytes: bytes)  // the length was just checked
    }

    /// Writes a new random key to `file`, which must not exist, readable by its owner only.
    private static func createFile(_ file: String) throws(Failure) -> SecretBox.Key {
        let key = SecretBox.Key()
        var bytes = key.exportBytes()
        defer { SecureBytes.zero(&bytes) }
        var text = Array((Data(bytes).base64EncodedString() + "\n").utf8)
        defer { SecureBytes.zero(&text) }
        let descriptor = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw Failure(description: "cannot create the master key file \(file): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == text.count, fsync(descriptor) == 0, syncDirectory(containing: file) else {
            unlink(file)
            throw Failure(description: "cannot write the master key file \(file)")
        }
        return key
    }

    /// Syncs the directory entry of a new file, so a power cut cannot leave the database's sealed signing
    /// keys on disk without the key that opens them.
    private static func syncDirectory(containing file: String) -> Bool {
        let directory = (file as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return fsync(descriptor) == 0
    }
}
