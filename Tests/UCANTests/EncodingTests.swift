import Testing
import UCAN

@Suite struct EncodingTests {
    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"), ("\u{FB}\u{FF}", "w7vDvw"),
    ])
    func base64URLMatchesRFC4648(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test(arguments: ["Zg==", "Zm9v+", "Zm9v/", "Z", "Zh", "Zm9=", "Zm 9v", "Zm9vY"])
    func base64URLRefusesPaddingOtherAlphabetsAndNonCanonicalBits(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test(arguments: [
        ([UInt8](), ""), ([0], "1"), ([0, 0, 1], "112"), (Array("hello world".utf8), "StV1DL6CwTryKyV"),
        ([0xED, 0x01] + Array(repeating: 0xFF, count: 32), "6MkwgaR63138bEEgad7uk993KMX54vBA6KTB4sFhCPnSB2e"),
    ])
    func base58RoundTrips(bytes: [UInt8], text: String) {
        #expect(Base58.encode(bytes) == text)
        #expect(Base58.decode(text) == bytes)
    }

    @Test func base58RoundTripsRandomBytesWithLeadingZeros() {
        for length in 0..<80 {
            let bytes = Array(repeating: 0, count: length % 4) + SecureBytes.random(count: length)
            #expect(Base58.decode(Base58.encode(bytes)) == bytes)
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
            #expect(Base32.decode(Base32.encode(bytes)) == bytes)
        }
    }

    @Test func base58RefusesCharactersOutsideItsAlphabet() {
        for text in ["0", "O", "I", "l", "abc!", "é"] { #expect(Base58.decode(text) == nil) }
        #expect(Base58.decode(String(repeating: "z", count: 500)) == nil, "over the length bound")
    }

    @Test(arguments: [("", ""), ("f", "my"), ("fo", "mzxq"), ("foo", "mzxw6"), ("foobar", "mzxw6ytboi")])
    func base32MatchesRFC4648(plain: String, encoded: String) {
        #expect(Base32.encode(Array(plain.utf8)) == encoded)
        #expect(Base32.decode(encoded) == Array(plain.utf8))
    }

    @Test func base32RefusesUpperCasePaddingAndStrayBits() {
        for text in ["MZXW6", "my======", "mz", "m1"] { #expect(Base32.decode(text) == nil) }
    }

    @Test func varintsAreMinimal() {
        var bytes: [UInt8] = []
        Varint.append(0x1E, to: &bytes)
        Varint.append(300, to: &bytes)
        #expect(bytes == [0x1E, 0xAC, 0x02])
        var index = 0
        #expect(Varint.read(bytes, at: &index) == 0x1E)
        #expect(Varint.read(bytes, at: &index) == 300)
        #expect(index == 3)
        index = 0
        #expect(Varint.read([0x80, 0x00], at: &index) == nil, "overlong encodings are refused")
        index = 0
        #expect(Varint.read([0x80], at: &index) == nil, "truncated")
    }
}
