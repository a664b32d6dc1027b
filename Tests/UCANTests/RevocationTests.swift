import Foundation
import Testing
import UCAN

@Suite struct RevocationTests {
    static let mail = caps(["https://api.example.com/mail": ["email/send": [[:]]]])

    func chain() throws -> (root: UCAN, leaf: UCAN, validated: ValidatedChain) {
        let root = try issue(Keys.alice, to: Keys.bob, capabilities: Self.mail)
        let leaf = try issue(Keys.bob, to: Keys.carol, capabilities: Self.mail, proofs: [root])
        return (root, leaf, try Validator().validate(leaf, proofs: ProofStore([root]), now: now))
    }

    @Test func anIssuerOnTheChainMayRevoke() throws {
        let (_, leaf, validated) = try chain()
        for key in [Keys.alice, Keys.bob] {
            let record = Revocation(revoking: leaf.cid, with: key)
            #expect(record.hasValidSignature)
            #expect(throws: Never.self) { try record.verify(against: validated) }
        }
    }

    @Test func anOutsiderCannotRevoke() throws {
        let (_, leaf, validated) = try chain()
        let record = Revocation(revoking: leaf.cid, with: Keys.erin)
        #expect(record.hasValidSignature, "well signed, but not by anyone on the chain")
        let error = #expect(throws: UCANError.self) { try record.verify(against: validated) }
        #expect(error?.code == .invalidRevocation)
        #expect(error?.field == "iss")
    }

    @Test func aRecordForAnotherTokenOrWithAForgedChallengeIsRefused() throws {
        let (root, _, validated) = try chain()
        let other = Revocation(revoking: root.cid, with: Keys.alice)
        #expect((#expect(throws: UCANError.self) { try other.verify(against: validated) })?.field == "revoke")

        let genuine = Revocation(revoking: validated.token.cid, with: Keys.bob)
        var json = try #require(try JSONParser.parse(genuine.json).objectValue)
        json["iss"] = .string(Keys.alice.did.string)  // claim Alice's authority with Bob's signature
        let forged = try Revocation(json: JSONValue.object(json).serialized())
        #expect(!forged.hasValidSignature)
        #expect((#expect(throws: UCANError.self) { try forged.verify(against: validated) })?.field == "challenge")
    }

    @Test func theJSONFormRoundTripsAndIsStrict() throws {
        let record = Revocation(revoking: try issue(Keys.alice, to: Keys.bob).cid, with: Keys.alice)
        let text = String(decoding: record.json, as: UTF8.self)
        #expect(text.hasPrefix(#"{"challenge":""#))
        #expect(text.contains(#""iss":"\#(Keys.alice.did)","revoke":"\#(record.revoked)"}"#))
        #expect(try Revocation(json: record.json) == record)
        for bad in [
            "{}", "[]", #"{"iss":"x","revoke":"y","challenge":"z"}"#,
            text.replacingOccurrences(of: #""iss""#, with: #""isz""#),
            String(text.dropLast()) + #","extra":1}"#,
        ] {
            #expect(
                (#expect(throws: UCANError.self) { try Revocation(json: Array(bad.utf8)) })?.code == .invalidRevocation)
        }
    }
}
