import Testing
import UCAN

/// Official BLAKE3 default-mode vectors (input byte `i` is `i % 251`); cross-checked with the Python `blake3` package.
private let officialVectors: [(length: Int, hex: String)] = [
    (0, "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"),
    (1, "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213"),
    (2, "7b7015bb92cf0b318037702a6cdd81dee41224f734684c2c122cd6359cb1ee63"),
    (3, "e1be4d7a8ab5560aa4199eea339849ba8e293d55ca0a81006726d184519e647f"),
    (4, "f30f5ab28fe047904037f77b6da4fea1e27241c5d132638d8bedce9d40494f32"),
    (5, "b40b44dfd97e7a84a996a91af8b85188c66c126940ba7aad2e7ae6b385402aa2"),
    (6, "06c4e8ffb6872fad96f9aaca5eee1553eb62aed0ad7198cef42e87f6a616c844"),
    (7, "3f8770f387faad08faa9d8414e9f449ac68e6ff0417f673f602a646a891419fe"),
    (8, "2351207d04fc16ade43ccab08600939c7c1fa70a5c0aaca76063d04c3228eaeb"),
    (63, "e9bc37a594daad83be9470df7f7b3798297c3d834ce80ba85d6e207627b7db7b"),
    (64, "4eed7141ea4a5cd4b788606bd23f46e212af9cacebacdc7d1f4c6dc7f2511b98"),
    (65, "de1e5fa0be70df6d2be8fffd0e99ceaa8eb6e8c93a63f2d8d1c30ecb6b263dee"),
    (127, "d81293fda863f008c09e92fc382a81f5a0b4a1251cba1634016a0f86a6bd640d"),
    (128, "f17e570564b26578c33bb7f44643f539624b05df1a76c81f30acd548c44b45ef"),
    (129, "683aaae9f3c5ba37eaaf072aed0f9e30bac0865137bae68b1fde4ca2aebdcb12"),
    (1023, "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11"),
    (1024, "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7"),
    (1025, "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444"),
    (2048, "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a"),
    (2049, "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b6879522563030"),
    (3072, "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd2"),
    (3073, "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd3"),
    (4096, "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e969"),
    (4097, "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb995"),
    (5120, "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833"),
    (5121, "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff"),
    (6144, "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca205"),
    (6145, "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f"),
    (7168, "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a"),
    (7169, "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e7817"),
    (8192, "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a63"),
    (8193, "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3b"),
    (16384, "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde4"),
    (31744, "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47"),
    (102400, "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085"),
]

/// Lengths that straddle block, chunk and tree-level boundaries, used for the split tests.
private let splitLengths = [0, 1, 63, 64, 65, 1023, 1024, 1025, 2049, 4097, 8193, 16384]

private let emptyHex = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
private let abcHex = "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"

private func vectorInput(_ length: Int) -> [UInt8] {
    (0..<length).map { UInt8($0 % 251) }
}

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
}

@Suite("BLAKE3")
struct BLAKE3Tests {
    @Test("Official vectors, one shot", arguments: officialVectors)
    func officialVector(length: Int, hex expected: String) {
        let digest = BLAKE3.hash(vectorInput(length))
        #expect(digest.count == 32)
        #expect(hex(digest) == expected)
    }

    @Test("Official vectors through the raw-buffer update", arguments: officialVectors)
    func officialVectorRawBuffer(length: Int, hex expected: String) {
        var hasher = BLAKE3()
        vectorInput(length).withUnsafeBytes { hasher.update($0) }
        #expect(hex(hasher.finalize()) == expected)
    }

    @Test("Official vectors from a non-contiguous sequence", arguments: officialVectors)
    func officialVectorLazySequence(length: Int, hex expected: String) {
        // A lazy map has no contiguous storage, so this exercises the element-by-element path.
        let input = (0..<length).lazy.map { UInt8($0 % 251) }
        #expect(hex(BLAKE3.hash(input)) == expected)
    }

    @Test("Empty input")
    func empty() {
        #expect(hex(BLAKE3.hash([UInt8]())) == emptyHex)
        #expect(hex(BLAKE3().finalize()) == emptyHex)
    }

    @Test("abc")
    func abc() {
        #expect(hex(BLAKE3.hash(Array("abc".utf8))) == abcHex)
        #expect(hex(BLAKE3.hash("abc".utf8)) == abcHex)
    }

    @Test("One byte at a time equals one shot", arguments: splitLengths)
    func byteAtATime(length: Int) {
        let input = vectorInput(length)
        var hasher = BLAKE3()
        for byte in input {
            hasher.update(CollectionOfOne(byte))
        }
        #expect(hasher.finalize() == BLAKE3.hash(input))
    }

    @Test("Alternating 63- and 65-byte pieces equal one shot", arguments: splitLengths)
    func oddPieces(length: Int) {
        let input = vectorInput(length)
        var hasher = BLAKE3()
        var offset = 0
        var useShortPiece = true
        while offset < input.count {
            let end = min(input.count, offset + (useShortPiece ? 63 : 65))
            hasher.update(input[offset..<end])
            offset = end
            useShortPiece.toggle()
        }
        #expect(hasher.finalize() == BLAKE3.hash(input))
    }

    @Test("Uneven raw-buffer pieces equal one shot", arguments: [1, 7, 64, 100, 1000, 1024, 1500])
    func rawBufferPieces(pieceLength: Int) {
        let input = vectorInput(9000)
        var hasher = BLAKE3()
        input.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let end = min(buffer.count, offset + pieceLength)
                hasher.update(UnsafeRawBufferPointer(rebasing: buffer[offset..<end]))
                offset = end
            }
        }
        #expect(hasher.finalize() == BLAKE3.hash(input))
    }

    @Test("Empty updates change nothing")
    func emptyUpdates() {
        let input = vectorInput(2048)
        var hasher = BLAKE3()
        hasher.update([UInt8]())
        hasher.update(input[0..<1024])
        hasher.update([UInt8]())
        hasher.update(input[1024...])
        hasher.update([UInt8]())
        #expect(hasher.finalize() == BLAKE3.hash(input))
    }

    @Test("finalize does not consume the state")
    func finalizeIsRepeatable() {
        let input = vectorInput(3000)
        var hasher = BLAKE3()
        hasher.update(input[0..<1024])
        let partial = hasher.finalize()
        #expect(hasher.finalize() == partial)
        #expect(partial == BLAKE3.hash(input[0..<1024]))
        hasher.update(input[1024...])
        #expect(hasher.finalize() == BLAKE3.hash(input))
    }
}
