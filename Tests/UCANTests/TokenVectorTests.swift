import Testing
import UCAN

/// Byte-exact vectors, computed independently with PyNaCl and Python's json/hashlib/blake3, so an
/// encoding regression shows as a diff rather than a round trip that agrees with itself.
@Suite struct TokenVectorTests {
    static let token =
        "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJkaWQ6a2V5Ono2TWtvOWhUZ2dNd2pTVEVhSmFQVWZFNnRxY3kyeHZVNkJuTnEzZTNvOHFWQml5SCIsImNhcCI6eyJtYWlsdG86YWxpY2VAZXhhbXBsZS5jb20iOnsibXNnL3NlbmQiOlt7fV19fSwiZXhwIjoxOTAwMDAwMDAwLCJpc3MiOiJkaWQ6a2V5Ono2TWtvbjNOZWNkNk5ra3lmb0dvSHhpZDJ6bkdjNTlMVTNLN211YmFSY0ZiTGZMWCIsIm5uYyI6ImZpeGVkLW5vbmNlIiwidWN2IjoiMC4xMC4wIn0.KDJ1vhEpB0PBEXj_HwNBMJdWr_QH9imEy8ZJ862rvtGvvHLaUdx8IiOCkOy1NGw1b6ioASztyERIFhuj9dCsDw"

    @Test func didKeyMatchesTheSpecVector() throws {
        let key = try Ed25519.PublicKey(bytes: hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        #expect(DID(publicKey: key).string == "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw")
        #expect(try DID("did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw").publicKey == key)
        #expect(Keys.alice.did.string == "did:key:z6Mkon3Necd6NkkyfoGoHxid2znGc59LU3K7mubaRcFbLfLX")
        #expect(Keys.bob.did.string == "did:key:z6Mko9hTggMwjSTEaJaPUfE6tqcy2xvU6BnNq3e3o8qVBiyH")
    }

    @Test(arguments: [
        "did:web:example.com", "did:key:", "did:key:z", "did:key:6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
        "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMs",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
        "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw0",
        "DID:KEY:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw",
    ])
    func nonEd25519DIDsAreRefused(text: String) {
        #expect(throws: UCANError.self) { try DID(text) }
    }

    @Test func fixedSeedGivesAFixedToken() throws {
        let payload = Payload(
            issuer: Keys.alice.did, audience: Keys.bob.did, expiration: 1_900_000_000, nonce: "fixed-nonce",
            capabilities: caps(["mailto:alice@example.com": ["msg/send": [[:]]]]))
        let token = try UCAN(signing: payload, with: Keys.alice)
        #expect(token.encoded == Self.token)
        #expect(try UCAN(signing: payload, with: Keys.alice).encoded == token.encoded, "deterministic")
        #expect(token.cid.string == "bafkreib6biccfxb6jwsh5kkqcueikijqpcgg4r2pc6o4mflrt5uioj32pi")
        #expect(CID(of: token, hasher: .blake3).string == "bafkr4ibd2bpvncydv7rbt2upywsjw6lipskp5c7q4wmjsasdvtlqfqr7qe")
    }

    @Test func parsingKeepsTheExactBytesAndEveryClaim() throws {
        let token = try UCAN(parsing: Self.token)
        #expect(token.encoded == Self.token)
        #expect(token.hasValidSignature)
        let payload = token.payload
        #expect(payload.version == .ucan)
        #expect(payload.issuer == Keys.alice.did)
        #expect(payload.audience == Keys.bob.did)
        #expect(payload.expiration == 1_900_000_000)
        #expect(payload.notBefore == nil)
        #expect(payload.nonce == "fixed-nonce")
        #expect(payload.facts == nil)
        #expect(payload.proofs.isEmpty)
        #expect(payload.capabilities.all == [Capability(resource: "mailto:alice@example.com", ability: "msg/send")])
    }

    @Test func cidsParseAndRefuseOtherForms() throws {
        let cid = try CID("bafkreib6biccfxb6jwsh5kkqcueikijqpcgg4r2pc6o4mflrt5uioj32pi")
        #expect(cid.hasher == .sha256)
        #expect(cid.digest.count == 32)
        #expect(try CID("bafkr4ibd2bpvncydv7rbt2upywsjw6lipskp5c7q4wmjsasdvtlqfqr7qe").hasher == .blake3)
        for text in [
            "", "b", "Bafkreib6biccfxb6jwsh5kkqcueikijqpcgg4r2pc6o4mflrt5uioj32pi",
            "bafkreib6biccfxb6jwsh5kkqcueikijqpcgg4r2pc6o4mflrt5uioj32p",
            "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
            // base58btc is read for DAG-CBOR CIDs only, as the 1.0 spec writes them; a raw CID is base32.
            "z" + Base58.encode(cid.bytes),
        ] {
            #expect(throws: UCANError.self, "\(text)") { try CID(text) }
        }
        // The same digest under the DAG-CBOR codec is a UCAN 1.0 CID, in base32 or base58btc.
        let envelope = try CID("bafyreib6biccfxb6jwsh5kkqcueikijqpcgg4r2pc6o4mflrt5uioj32pi")
        #expect(envelope.codec == .dagCBOR && envelope.digest == cid.digest)
        #expect(try CID("z" + Base58.encode(envelope.bytes)) == envelope)
        #expect(try CID(bytes: envelope.bytes) == envelope)
    }

    @Test func encodingOmitsAbsentFieldsAndWritesNullExpiry() throws {
        let token = try UCAN(
            signing: Payload(issuer: Keys.alice.did, audience: Keys.bob.did, expiration: nil), with: Keys.alice)
        let json = String(decoding: Base64URL.decode(token.encoded.split(separator: ".")[1])!, as: UTF8.self)
        #expect(json == #"{"aud":"\#(Keys.bob.did)","cap":{},"exp":null,"iss":"\#(Keys.alice.did)","ucv":"0.10.0"}"#)
        let full = try UCAN(
            signing: Payload(
                issuer: Keys.alice.did, audience: Keys.bob.did, notBefore: 5, expiration: 10, nonce: "n",
                facts: ["path": .string("a/b")], proofs: [token.cid]),
            with: Keys.alice)
        let fullJSON = String(decoding: Base64URL.decode(full.encoded.split(separator: ".")[1])!, as: UTF8.self)
        #expect(
            fullJSON
                == #"{"aud":"\#(Keys.bob.did)","cap":{},"exp":10,"fct":{"path":"a/b"},"iss":"\#(Keys.alice.did)","nbf":5,"nnc":"n","prf":["\#(token.cid)"],"ucv":"0.10.0"}"#
        )
    }

    @Test func theBuilderRefusesWhatItMustNotSign() throws {
        #expect(throws: UCANError.self, "issuer is not the key's DID") {
            try UCAN(signing: Payload(issuer: Keys.bob.did, audience: Keys.bob.did, expiration: 1), with: Keys.alice)
        }
        #expect(throws: UCANError.self, "nbf after exp") {
            try issue(Keys.alice, to: Keys.bob, notBefore: 20, expiration: 10)
        }
        #expect(throws: UCANError.self, "negative time") { try issue(Keys.alice, to: Keys.bob, expiration: -1) }
    }
}
