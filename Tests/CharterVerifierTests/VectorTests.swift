import Foundation
import Testing
import UCAN

@testable import CharterVerifier

/// The shared verification vectors (Specs/vectors/verification.json, written by scripts/make-vectors.py), which
/// every Charter SDK runs to the same verdicts.
@Suite struct VectorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let json: JSONValue
        var testDescription: String { name }
    }

    static let vectors: JSONValue = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = (try? Data(contentsOf: root.appendingPathComponent("Specs/vectors/verification.json"))) ?? Data()
        return (try? JSONParser.parse(Array(data), maxDepth: 64)) ?? .null
    }()

    static func cases(_ format: String) -> [Case] {
        (vectors[format]?.arrayValue ?? []).map { Case(name: $0["name"]?.stringValue ?? "?", json: $0) }
    }

    /// An air-gapped verifier as the vectors describe it, at the case's `now`.
    static func verifier(for vector: JSONValue) throws -> CharterVerifier {
        let settings = try #require(vectors["verifier"])
        let issuers = try (settings["issuers"]?.arrayValue ?? []).compactMap(\.stringValue).map { try DID($0) }
        let now = Date(timeIntervalSince1970: TimeInterval(try #require(vector["now"]?.integerValue)))
        return CharterVerifier(
            VerifierConfiguration(
                server: nil,
                organizations: Set((settings["organizations"]?.arrayValue ?? []).compactMap(\.stringValue)),
                issuers: .pinned(Set(issuers)), audiences: [try DID(try #require(vector["audience"]?.stringValue))],
                leeway: try #require(settings["leeway"]?.integerValue),
                maxInvocationLifetime: try #require(settings["max_invocation_lifetime"]?.integerValue)),
            now: { now })
    }

    static func verdict(_ verify: () throws(VerificationError) -> Void) -> String {
        do {
            try verify()
            return "valid"
        } catch {
            return error.code.rawValue
        }
    }

    @Test func theVectorsAreThere() {
        #expect(Self.cases("ucan_0_10").count >= 10 && Self.cases("ucan_1_0").count >= 10)
        let verdicts = Set(
            (Self.cases("ucan_0_10") + Self.cases("ucan_1_0")).compactMap { $0.json["expect"]?.stringValue })
        #expect(verdicts.contains("valid") && verdicts.count > 5, "valid cases and several kinds of refusal")
    }

    @Test(arguments: cases("ucan_0_10"))
    func ucan010(_ vector: Case) throws {
        let json = vector.json
        let verifier = try Self.verifier(for: json)
        let required = json["requiring"].map {
            Capability(resource: $0["resource"]?.stringValue ?? "", ability: $0["ability"]?.stringValue ?? "")
        }
        let verdict = Self.verdict { () throws(VerificationError) in
            _ = try verifier.verify(
                json["token"]?.stringValue ?? "", proofs: (json["proofs"]?.arrayValue ?? []).compactMap(\.stringValue),
                requiring: required)
        }
        #expect(verdict == json["expect"]?.stringValue)
    }

    @Test(arguments: cases("ucan_1_0"))
    func ucan1(_ vector: Case) throws {
        let json = vector.json
        let verifier = try Self.verifier(for: json)
        func bytes(_ text: String?) -> [UInt8] { Array(Data(base64Encoded: text ?? "") ?? Data()) }
        let command = try json["command"]?.stringValue.map { try Command($0) }
        let verdict = Self.verdict { () throws(VerificationError) in
            _ = try verifier.verify(
                invocation: bytes(json["invocation"]?.stringValue),
                proofs: (json["proofs"]?.arrayValue ?? []).map { bytes($0.stringValue) }, requiring: command)
        }
        #expect(verdict == json["expect"]?.stringValue)
    }
}
