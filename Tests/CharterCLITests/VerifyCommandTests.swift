import Foundation
import Testing
import UCAN

/// `charter verify` against a real `charter serve`: sync once, verify offline, one line on failure.
@Suite(.serialized) struct VerifyCommandTests {
    typealias Fixture = TokenCommandTests.Fixture

    /// stderr is exactly one line starting with `<code>: `, and stdout is empty.
    static func expectRefusal(
        _ result: CLI.Result, _ code: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(result.stderr.hasPrefix("\(code): "), "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line", sourceLocation: sourceLocation)
    }

    /// exit 0 and `valid`; when no `--organization` was given, a second line names the one that signed.
    static func expectValid(
        _ result: CLI.Result, signedBy org: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 0, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(
            result.stdout == "valid\n" + (org.map { "organization: \($0)\n" } ?? ""), sourceLocation: sourceLocation)
        #expect(result.stderr.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func aMintedTokenIsValidAndRevokingItsEnvelopeRevokesIt() async throws {
        let fixture = try await Fixture()
        let token = try fixture.authorize().line
        Self.expectValid(try CLI.run("verify", token, "--server", fixture.url), signedBy: fixture.org)
        Self.expectValid(
            try CLI.run("verify", token, "--server", fixture.url, "--audience", TokenCommandTests.audience),
            signedBy: fixture.org)
        let stranger = DID(publicKey: Ed25519.SigningKey().publicKey).string
        Self.expectRefusal(
            try CLI.run("verify", token, "--server", fixture.url, "--audience", stranger), "wrong_audience")

        #expect(try fixture.run("envelopes", "revoke", fixture.envelope, "--server", fixture.url).status == 0)
        let revoked = try CLI.run("verify", token, "--server", fixture.url)
        Self.expectRefusal(revoked, "revoked")
        #expect(revoked.stderr == "revoked: envelope \(fixture.envelope) is revoked\n")
    }

    @Test func aUCAN1InvocationVerifiesAgainstTheDelegationAuthorizePrints() async throws {
        let fixture = try await Fixture()
        let agent = Ed25519.SigningKey()
        let service = DID(publicKey: Ed25519.SigningKey().publicKey)
        let minted = try fixture.run(
            "authorize", "--server", fixture.url, "--format", "ucan/1.0", "--audience",
            DID(publicKey: agent.publicKey).string, "--command", "/email/send", "--policy", #"[["!=", ".cc", "x"]]"#)
        #expect(minted.status == 0, "\(minted.stderr)")
        let delegation = try Delegation(bytes: Array(try #require(Data(base64Encoded: minted.line))))
        #expect(delegation.command.path == "/email/send")
        #expect(delegation.policy.ipld == [["like", ".to", "*@example.com"], ["!=", ".cc", "x"]])
        func invocation(_ command: String = "/email/send", to: String) throws -> String {
            Data(
                try Invocation(
                    issuer: agent, subject: try #require(delegation.subject), audience: service,
                    command: try Command(command), arguments: ["to": .string(to)], proofs: [delegation.cid],
                    expiration: Int64(Date().timeIntervalSince1970) + 60
                ).bytes
            ).base64EncodedString()
        }
        let proof = minted.line
        Self.expectValid(
            try CLI.run(
                "verify", try invocation(to: "ada@example.com"), "--proof", proof, "--server", fixture.url,
                "--command", "/email/send"), signedBy: fixture.org)
        let violation = try CLI.run(
            "verify", try invocation(to: "eve@evil.com"), "--proof", proof, "--server", fixture.url)
        Self.expectRefusal(violation, "policy_violation")
        #expect(violation.stderr.contains("like"), "names the statement: \(violation.stderr)")
        Self.expectRefusal(
            try CLI.run(
                "verify", try invocation(to: "ada@example.com"), "--proof", proof, "--server", fixture.url,
                "--command", "/email/read"), "not_covered")
        Self.expectRefusal(
            try CLI.run("verify", try invocation(to: "ada@example.com"), "--server", fixture.url), "invalid_chain")
        let refused = try fixture.run(
            "authorize", "--server", fixture.url, "--format", "ucan/1.0", "--audience", TokenCommandTests.audience,
            "--command", "/calendar/write")
        #expect(refused.status == 1 && refused.stderr.hasPrefix("error: command_not_in_envelope: "))
        let mixed = try fixture.authorize(TokenCommandTests.mail, "--format", "ucan/1.0", "--command", "/email/send")
        #expect(mixed.status != 0 && mixed.stderr.contains("--capabilities is for --format ucan/0.10"))

        #expect(try fixture.run("envelopes", "revoke", fixture.envelope, "--server", fixture.url).status == 0)
        Self.expectRefusal(
            try CLI.run("verify", try invocation(to: "ada@example.com"), "--proof", proof, "--server", fixture.url),
            "revoked")
    }

    @Test func aTokenRevokedByCIDIsRevoked() async throws {
        let fixture = try await Fixture()
        let token = try fixture.authorize().line
        let cid = try CLI.run("ucan", "cid", token).line
        #expect(try fixture.run("tokens", "revoke", cid, "--server", fixture.url).status == 0)
        Self.expectRefusal(try CLI.run("verify", token, "--server", fixture.url), "revoked")
    }

    @Test func aDelegationVerifiesWithItsProof() async throws {
        let fixture = try await Fixture()
        let agent = Ed25519.SigningKey()
        let agentDID = DID(publicKey: agent.publicKey)
        let service = DID(publicKey: Ed25519.SigningKey().publicKey)
        let minted = try fixture.run(
            "authorize", "--server", fixture.url, "--audience", agentDID.string, "--capabilities",
            TokenCommandTests.mail)
        #expect(minted.status == 0, "\(minted.stderr)")
        let root = try UCAN(parsing: minted.line)
        let delegated = try UCAN(
            signing: Payload(
                issuer: agentDID, audience: service, expiration: root.payload.expiration,
                capabilities: try Capabilities([Capability(resource: "mailto:a@example.com", ability: "email/send")]),
                proofs: [root.cid]),
            with: agent)

        Self.expectValid(
            try CLI.run(
                "verify", delegated.encoded, "--server", fixture.url, "--proof", root.encoded, "--audience",
                service.string), signedBy: fixture.org)
        Self.expectRefusal(
            try CLI.run("verify", delegated.encoded, "--server", fixture.url, "--audience", service.string),
            "invalid_chain")
    }

    @Test func aRequiredCapabilityMustBeCovered() async throws {
        let fixture = try await Fixture()
        let token = try fixture.authorize().line
        Self.expectValid(
            try CLI.run(
                "verify", token, "--server", fixture.url, "--resource", "mailto:a@example.com", "--ability",
                "email/send", "--organization", fixture.org))
        let uncovered = try CLI.run(
            "verify", token, "--server", fixture.url, "--resource", "mailto:a@example.com", "--ability", "email/read")
        Self.expectRefusal(uncovered, "not_covered")
        #expect(uncovered.stderr.contains("email/read on mailto:a@example.com"))
        #expect(try CLI.run("verify", token, "--server", fixture.url, "--ability", "email/send").status == 64)
    }

    /// Issue 17: a token of one organization does not verify for a service that trusts only another.
    @Test func anotherOrganizationsTokenIsAnUntrustedIssuer() async throws {
        let fixture = try await Fixture()
        let token = try fixture.authorize().line
        let other = try CLI.run("orgs", "create", "--name", "Other", "--database", fixture.database, "--json")
        #expect(other.status == 0, "\(other.stderr)")
        let otherOrg = try #require(try Fixture.object(other.stdout)["org_id"] as? String)
        Self.expectValid(try CLI.run("verify", token, "--server", fixture.url, "--organization", fixture.org))
        Self.expectRefusal(
            try CLI.run("verify", token, "--server", fixture.url, "--organization", otherOrg), "untrusted_issuer")
        Self.expectValid(
            try CLI.run(
                "verify", token, "--server", fixture.url, "--organization", otherOrg, "--organization", fixture.org))
    }

    @Test func garbageAndAnUnreachableServerFailInOneLine() throws {
        Self.expectRefusal(try CLI.run("verify", "not-a-token", "--server", "http://127.0.0.1:1"), "malformed")
        let agent = Ed25519.SigningKey()
        let did = DID(publicKey: agent.publicKey)
        let token = try UCAN(
            signing: Payload(issuer: did, audience: did, expiration: nil), with: agent)
        Self.expectRefusal(try CLI.run("verify", token.encoded, "--server", "http://127.0.0.1:1"), "sync_failed")
        let help = try CLI.run("verify", "--help")
        #expect(help.stdout.contains("token's own aud"))
    }
}
