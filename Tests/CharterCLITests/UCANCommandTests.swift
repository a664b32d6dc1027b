import Foundation
import Testing
import UCAN

/// The `charter ucan` contract, driven through the real executable.
@Suite struct UCANCommandTests {
    static let seed = Data(repeating: 1, count: 32).base64EncodedString()
    static let bob = "did:key:z6Mko9hTggMwjSTEaJaPUfE6tqcy2xvU6BnNq3e3o8qVBiyH"
    static let pinned =
        "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJkaWQ6a2V5Ono2TWtvOWhUZ2dNd2pTVEVhSmFQVWZFNnRxY3kyeHZVNkJuTnEzZTNvOHFWQml5SCIsImNhcCI6eyJtYWlsdG86YWxpY2VAZXhhbXBsZS5jb20iOnsibXNnL3NlbmQiOlt7fV19fSwiZXhwIjoxOTAwMDAwMDAwLCJpc3MiOiJkaWQ6a2V5Ono2TWtvbjNOZWNkNk5ra3lmb0dvSHhpZDJ6bkdjNTlMVTNLN211YmFSY0ZiTGZMWCIsIm5uYyI6ImZpeGVkLW5vbmNlIiwidWN2IjoiMC4xMC4wIn0.KDJ1vhEpB0PBEXj_HwNBMJdWr_QH9imEy8ZJ862rvtGvvHLaUdx8IiOCkOy1NGw1b6ioASztyERIFhuj9dCsDw"

    static func build(_ key: String = seed, _ extra: [String] = [], audience: String = bob) throws -> CLI.Result {
        try CLI.run(
            ["ucan", "build", "--issuer-key", key, "--audience", audience, "--expiration", "1900000000"] + extra)
    }

    @Test func keygenPrintsADIDAndItsSecretKey() throws {
        let result = try CLI.run("ucan", "keygen")
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: String])
        #expect(Set(object.keys) == ["did", "secret_key"])
        let secret = try #require(Data(base64Encoded: object["secret_key"]!))
        let key = try Ed25519.SigningKey(secretKey: Array(secret))
        #expect(DID(publicKey: key.publicKey).string == object["did"])
        #expect(try CLI.run("ucan", "keygen").stdout != result.stdout)
    }

    @Test func buildFromASeedGivesThePinnedToken() throws {
        let result = try Self.build(
            Self.seed, ["--nonce", "fixed-nonce", "--capabilities", #"{"mailto:alice@example.com":{"msg/send":[{}]}}"#])
        #expect(result.status == 0)
        #expect(result.line == Self.pinned)
        let fullKey = Data(try Ed25519.SigningKey(seed: Array(repeating: 1, count: 32)).exportSecretKey())
            .base64EncodedString()
        let same = try Self.build(
            fullKey, ["--nonce", "fixed-nonce", "--capabilities", #"{"mailto:alice@example.com":{"msg/send":[{}]}}"#])
        #expect(same.line == Self.pinned, "a 64-byte key and its seed sign alike")
    }

    @Test func verifyAcceptsAChainAndNamesTheReasonWhenItFails() throws {
        let root = try Self.build(Self.seed, ["--capabilities", #"{"https://x.com":{"a/b":[{}]}}"#]).line
        let bobSeed = Data(repeating: 2, count: 32).base64EncodedString()
        let rootCID = try CLI.run("ucan", "cid", root).line
        let leaf = try CLI.run(
            "ucan", "build", "--issuer-key", bobSeed, "--audience", Self.bob, "--expiration", "1800000000",
            "--capabilities", #"{"https://x.com":{"a/b":[{"n":1}]}}"#, "--proof", rootCID
        ).line

        let valid = try CLI.run("ucan", "verify", leaf, "--proof", root, "--now", "1700000000")
        #expect(valid.status == 0)
        #expect(valid.line == "valid")

        let missing = try CLI.run("ucan", "verify", leaf, "--now", "1700000000")
        #expect(missing.status == 1)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr.hasPrefix("invalid: unknown_proof: prf[0]:"))
        #expect(missing.stderr.filter { $0 == "\n" }.count == 1, "one line")

        let expired = try CLI.run("ucan", "verify", leaf, "--proof", root, "--now", "1800000000")
        #expect(expired.status == 1)
        #expect(expired.stderr.contains("expired"))

        let json = try CLI.run("ucan", "verify", leaf, "--proof", root, "--now", "1700000000", "--json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == true)
        #expect(object["cid"] as? String == (try CLI.run("ucan", "cid", leaf).line))
        let failure = try CLI.run("ucan", "verify", leaf, "--now", "1700000000", "--json")
        let failed = try #require(try JSONSerialization.jsonObject(with: Data(failure.stdout.utf8)) as? [String: Any])
        #expect(failed["valid"] as? Bool == false)
        #expect((failed["error"] as? [String: Any])?["code"] as? String == "unknown_proof")
    }

    @Test func cidMatchesThePinnedValuesForBothHashers() throws {
        #expect(
            try CLI.run("ucan", "cid", Self.pinned).line
                == "bafkreib6biccfxb6jwsh5kkqcueikijqpcgg4r2pc6o4mflrt5uioj32pi")
        #expect(
            try CLI.run("ucan", "cid", Self.pinned, "--hasher", "blake3-256").line
                == "bafkr4ibd2bpvncydv7rbt2upywsjw6lipskp5c7q4wmjsasdvtlqfqr7qe")
        #expect(try CLI.run("ucan", "cid", Self.pinned, "--hasher", "md5").status != 0)
    }

    @Test func inspectPrintsHeaderAndPayload() throws {
        let result = try CLI.run("ucan", "inspect", Self.pinned)
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["header"] as? [String: String]) == ["alg": "EdDSA", "typ": "JWT"])
        #expect((object["payload"] as? [String: Any])?["nnc"] as? String == "fixed-nonce")
        #expect(result.stdout.contains("\n  \"payload\": {"), "indented for people")
        #expect(try CLI.run("ucan", "inspect", "not-a-token").status != 0)
    }

    @Test(arguments: [
        ["--issuer-key", "%%%"], ["--issuer-key", Data([1, 2, 3]).base64EncodedString()],
        ["--audience", "did:web:example.com"], ["--expiration", "tomorrow"], ["--capabilities", "[1]"],
        ["--capabilities", #"{"mailto:a@b.c":{"send":[{}]}}"#], ["--facts", "{"], ["--proof", "bafy-nope"],
        ["--not-before", "1900000001"],
    ])
    func buildRefusesBadInputWithAMessage(_ override: [String]) throws {
        var options = [
            "--issuer-key": Self.seed, "--audience": Self.bob, "--expiration": "1900000000",
        ]
        options[override[0]] = override[1]
        let result = try CLI.run(["ucan", "build"] + options.flatMap { [$0.key, $0.value] })
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(!result.stderr.isEmpty)
        #expect(!result.stderr.contains(Self.seed), "the key is never echoed")
    }
}
