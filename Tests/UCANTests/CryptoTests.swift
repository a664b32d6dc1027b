import Testing
import UCAN

@Suite struct CryptoTests {
    /// RFC 8032 §7.1, tests 1–3.
    @Test(arguments: [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        ),
    ])
    func ed25519MatchesRFC8032(seed: String, publicKey: String, message: String, signature: String) throws {
        let key = try Ed25519.SigningKey(seed: hex(seed))
        #expect(key.publicKey.bytes == hex(publicKey))
        let signed = key.signature(for: hex(message))
        #expect(signed == hex(signature))
        #expect(key.publicKey.isValidSignature(signed, for: hex(message)))
        var flipped = signed
        flipped[10] ^= 1
        #expect(!key.publicKey.isValidSignature(flipped, for: hex(message)))
        #expect(!key.publicKey.isValidSignature(signed, for: hex(message) + [0]))
    }

    @Test func secretKeyRoundTripsAndRejectsMismatchedHalves() throws {
        let key = Ed25519.SigningKey()
        var exported = key.exportSecretKey()
        #expect(exported.count == 64)
        #expect(try Ed25519.SigningKey(secretKey: exported).publicKey == key.publicKey)
        exported[40] ^= 1
        #expect(throws: CryptoError.self) { try Ed25519.SigningKey(secretKey: exported) }
        #expect(throws: CryptoError.self) { try Ed25519.SigningKey(seed: [1, 2, 3]) }
        #expect(throws: CryptoError.self) { try Ed25519.PublicKey(bytes: Array(repeating: 0, count: 31)) }
    }

    @Test func randomKeysDiffer() {
        #expect(Ed25519.SigningKey().publicKey != Ed25519.SigningKey().publicKey)
        #expect(SecureBytes.random(count: 32) != SecureBytes.random(count: 32))
        #expect(SecureBytes.random(count: 0).isEmpty)
    }

    @Test func digestsMatchPublishedVectors() throws {
        #expect(
            SHA256.hash(Array("abc".utf8)) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(
            try BLAKE2b.hash(Array("abc".utf8), outputLength: 64)
                == hex(
                    "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
                ))
        #expect(throws: CryptoError.self) { try BLAKE2b.hash([], outputLength: 8) }
        #expect(try BLAKE2b.hash([1], key: Array(repeating: 7, count: 32)) != BLAKE2b.hash([1]))
    }

    @Test func secretBoxSealsOpensAndDetectsTampering() throws {
        let key = SecretBox.Key()
        let plaintext = Array("signing key material".utf8)
        let sealed = SecretBox.seal(plaintext, using: key)
        #expect(sealed.count == SecretBox.nonceByteCount + SecretBox.tagByteCount + plaintext.count)
        #expect(try SecretBox.open(sealed, using: key) == plaintext)
        #expect(SecretBox.seal(plaintext, using: key) != sealed, "each seal uses a fresh nonce")
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        #expect(throws: CryptoError.self) { try SecretBox.open(tampered, using: key) }
        #expect(throws: CryptoError.self) { try SecretBox.open(sealed, using: SecretBox.Key()) }
        #expect(throws: CryptoError.self) { try SecretBox.open(Array(sealed.prefix(20)), using: key) }
        #expect(try SecretBox.open(sealed, using: SecretBox.Key(bytes: key.exportBytes())) == plaintext)
    }

    @Test func constantTimeEqualsAndZeroing() {
        #expect(SecureBytes.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!SecureBytes.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!SecureBytes.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(SecureBytes.constantTimeEquals([], []))
        var secret: [UInt8] = [9, 9, 9]
        SecureBytes.zero(&secret)
        #expect(secret == [0, 0, 0])
    }
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}
