import ArgumentParser
import Foundation
import UCAN

extension UCANCommand {
    /// `charter ucan verify`: validate a token and its chain offline.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify a UCAN and its proofs: exit 0 and 'valid', or exit 1 and the reason on stderr.",
            discussion: """
                A UCAN 0.10 JWT is validated with its proofs (matched to prf by CID). A UCAN 1.0 token (base64 of \
                its envelope) is a delegation, checked alone, or an invocation, checked with the delegations its \
                prf cites.
                """)

        @Argument(help: "The token.")
        var token: String

        @Option(name: .customLong("proof"), help: "A proof token (matched to prf by CID); repeat for several.")
        var proofs: [String] = []

        @Option(help: "Validate as of this Unix time instead of now.")
        var now: Int64?

        @Flag(help: "Print the verified token, or the failure, as JSON on stdout.")
        var json = false

        func run() throws {
            let time = now ?? Int64(Date().timeIntervalSince1970)
            let input = try TokenInput(token)
            let proofInputs = try proofs.map { try TokenInput($0, option: "--proof") }
            do {
                let summary: JSONObject
                switch input {
                case .jwt(let text):
                    let jwts = try proofInputs.map { proof throws(UCANError) -> String in
                        guard case .jwt(let text) = proof else {
                            throw UCANError(.malformed, field: "--proof", "a UCAN 0.10 token takes 0.10 proofs")
                        }
                        return text
                    }
                    summary = try Self.verify(jwt: text, proofs: jwts, now: time)
                case .envelope(let bytes):
                    let envelopes = try proofInputs.map { proof throws(UCANError) -> [UInt8] in
                        guard case .envelope(let bytes) = proof else {
                            throw UCANError(.malformed, field: "--proof", "a UCAN 1.0 token takes 1.0 delegations")
                        }
                        return bytes
                    }
                    summary = try Self.verify(envelope: bytes, proofs: envelopes, now: time)
                }
                print(json ? String(decoding: JSONValue.object(summary).serialized(), as: UTF8.self) : "valid")
            } catch {
                if json {
                    let failure: JSONObject = [
                        "valid": .bool(false),
                        "error": .object([
                            "code": .string(error.code.rawValue), "name": .string(error.name),
                            "field": error.field.map(JSONValue.string) ?? .null, "message": .string(error.message),
                        ]),
                    ]
                    print(String(decoding: JSONValue.object(failure).serialized(), as: UTF8.self))
                }
                FileHandle.standardError.write(Data("invalid: \(error.code): \(error)\n".utf8))
                throw ExitCode.failure
            }
        }

        static func verify(jwt: String, proofs: [String], now: Int64) throws(UCANError) -> JSONObject {
            let chain = try Validator().validate(jwt, proofs: proofs, now: now)
            let payload = chain.token.payload
            return [
                "valid": .bool(true),
                "cid": .string(chain.token.cid.string),
                "issuer": .string(payload.issuer.string),
                "audience": .string(payload.audience.string),
                "expiration": payload.expiration.map(JSONValue.integer) ?? .null,
                "capabilities": payload.capabilities.json,
                "root_issuers": .array(chain.rootIssuers.sorted().map { .string($0.string) }),
            ]
        }

        static func verify(envelope: [UInt8], proofs: [[UInt8]], now: Int64) throws(UCANError) -> JSONObject {
            if Invocation.isInvocation(envelope) {
                let validated = try InvocationValidator().validate(envelope, proofs: proofs, now: now)
                let invocation = validated.invocation
                return [
                    "valid": .bool(true), "kind": "invocation", "cid": .string(validated.cid.string),
                    "issuer": .string(invocation.issuer.string), "subject": .string(invocation.subject.string),
                    "command": .string(invocation.command.path),
                    "expiration": invocation.expiration.map(JSONValue.integer) ?? .null,
                    "proofs": .array(validated.delegations.map { .string($0.cid.string) }),
                ]
            }
            let delegation = try Delegation(bytes: envelope)
            try delegation.checkTime(at: now)
            return [
                "valid": .bool(true), "kind": "delegation", "cid": .string(delegation.cid.string),
                "issuer": .string(delegation.issuer.string), "audience": .string(delegation.audience.string),
                "subject": delegation.subject.map { .string($0.string) } ?? .null,
                "command": .string(delegation.command.path),
                "expiration": delegation.expiration.map(JSONValue.integer) ?? .null,
            ]
        }
    }
}
