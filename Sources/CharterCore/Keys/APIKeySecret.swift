import UCAN

/// The plaintext form of API keys: `chr_<env>_` + 33 random base62 characters (196 bits) + a
/// 6-character CRC-32 checksum, so scanners and the server reject a mistyped or invented key
/// without a lookup.
public enum APIKeySecret {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    private static let randomLength = 33
    private static let checksumLength = 6
    /// `chr_live_` and `chr_test_` are the same length.
    private static let prefixLength = 9
    static let length = prefixLength + randomLength + checksumLength

    /// A newly generated key.
    public struct Generated: Sendable {
        /// The key itself, shown once and never stored.
        public let plaintext: String
        /// What is stored and looked up.
        public let hash: [UInt8]
        /// The masked form shown in listings.
        public let display: String
    }

    /// Generates a key for `environment`.
    public static func generate(for environment: Environment) -> Generated {
        var body: [UInt8] = Array("chr_\(environment.rawValue)_".utf8)
        body.reserveCapacity(length)
        while body.count < prefixLength + randomLength {
            // Rejection sampling keeps every character uniform: 248 = 4 × 62.
            for byte in SecureBytes.random(count: 48) where byte < 248 && body.count < prefixLength + randomLength {
                body.append(alphabet[Int(byte % 62)])
            }
        }
        body += checksum(body)
        let plaintext = String(decoding: body, as: UTF8.self)
        return Generated(plaintext: plaintext, hash: hash(of: plaintext), display: display(of: plaintext))
    }

    /// Checks a presented key's shape and checksum, returning its environment; no lookup is made.
    /// - Throws: ``CharterError`` `api_key_malformed` for anything that is not a well-formed key.
    public static func environment(of text: some StringProtocol) throws(CharterError) -> Environment {
        let bytes = text.utf8.withContiguousStorageIfAvailable { Array($0) } ?? Array(text.utf8)
        let malformed = CharterError(.apiKeyMalformed, "the API key is malformed")
        guard bytes.count == length else { throw malformed }
        let environment: Environment
        if bytes.starts(with: "chr_live_".utf8) {
            environment = .live
        } else if bytes.starts(with: "chr_test_".utf8) {
            environment = .test
        } else {
            throw malformed
        }
        let body = bytes[..<(length - checksumLength)]
        guard body.dropFirst(prefixLength).allSatisfy(isBase62),
            checksum(Array(body)).elementsEqual(bytes[(length - checksumLength)...])
        else { throw malformed }
        return environment
    }

    /// The stored hash of a plaintext key.
    public static func hash(of plaintext: some StringProtocol) -> [UInt8] {
        SHA256.hash(Array(plaintext.utf8))
    }

    /// `chr_live_Ab3x…9kLm`: enough to recognise a key, too little to use it.
    public static func display(of plaintext: String) -> String {
        let bytes = Array(plaintext.utf8)
        return String(decoding: bytes[..<(prefixLength + 4)], as: UTF8.self) + "…"
            + String(decoding: bytes[(bytes.count - 4)...], as: UTF8.self)
    }

    private static func isBase62(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// CRC-32 of the prefix and random part, as six base62 digits.
    private static func checksum(_ body: [UInt8]) -> [UInt8] {
        var value = UInt64(CRC32.checksum(body))
        var digits = [UInt8](repeating: alphabet[0], count: checksumLength)
        for index in stride(from: checksumLength - 1, through: 0, by: -1) {
            digits[index] = alphabet[Int(value % 62)]
            value /= 62
        }
        return digits
    }
}
