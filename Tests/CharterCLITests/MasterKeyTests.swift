import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The master key that seals issuer keys: where `charter serve` finds it, and what it refuses.
@Suite(.serialized) struct MasterKeyTests {
    /// Starts a server, mints one token and returns the issuer DID that signed it.
    static func mintedIssuer(_ server: ServerProcess, key: String) async throws -> String {
        let apps = try await server.get("/v1/apps", key: key)
        let app = try #require(
            (try JSONSerialization.jsonObject(with: Data(apps.body.utf8)) as? [String: Any])
                .flatMap { $0["apps"] as? [[String: Any]] }?.first?["id"] as? String)
        _ = try await server.post(
            "/v1/envelopes", key: key,
            json: [
                "app_id": app, "name": "mail-\(UUID().uuidString.prefix(6))",
                "capabilities": ["mailto:*": ["email/send": [[String: Any]()]]], "max_ttl_seconds": 60,
            ])
        let reply = try await server.post(
            "/v1/authorize", key: key,
            json: [
                "audience": "did:key:z6MkpTYBshrFQiBoTeZfWt8V59oCZ9np6dQJSFgBhJti3nnV",
                "capabilities": ["mailto:a@example.com": ["email/send": [[String: Any]()]]],
            ])
        #expect(reply.status == 200, "\(reply.body)")
        let body = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        return try #require(body?["issuer"] as? String)
    }

    @Test func theFirstStartCreatesAnOwnerOnlyKeyFileThatLaterStartsReuse() async throws {
        let (directory, database) = try ServeCommandTests.temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let databasePath = String(database.dropFirst("sqlite:".count))
        let keyFile = databasePath + ".master-key"

        let first = try ServerProcess(database: database)
        let owner = try #require(first.ownerKey)
        let issuer = try await Self.mintedIssuer(first, key: owner)
        #expect(first.stop() == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let text = try String(contentsOfFile: keyFile, encoding: .utf8)
        let masterKey = try #require(Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(masterKey.count == 32)
        for suffix in ["", "-wal"] {
            let stored = (try? Data(contentsOf: URL(fileURLWithPath: databasePath + suffix))) ?? Data()
            #expect(stored.range(of: masterKey) == nil, "the master key is in charter.db\(suffix)")
        }

        let second = try ServerProcess(database: database)
        defer { second.stop() }
        #expect(try await Self.mintedIssuer(second, key: owner) == issuer, "the stored issuer key opens again")
        #expect(try String(contentsOfFile: keyFile, encoding: .utf8) == text, "the file is not replaced")
    }

    @Test func aWrongUnsafeOrMissingKeyStopsTheServerAtStart() async throws {
        let (directory, database) = try ServeCommandTests.temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = String(database.dropFirst("sqlite:".count)) + ".master-key"
        let first = try ServerProcess(database: database)
        _ = try await Self.mintedIssuer(first, key: try #require(first.ownerKey))
        first.stop()

        func refusal(_ environment: [String: String] = [:]) throws -> String {
            do {
                let server = try ServerProcess(database: database, environment: environment)
                server.stop()
                Issue.record("charter serve started: \(server.output)")
                return ""
            } catch let error as ServerDidNotStart {
                return error.output
            }
        }
        let stranger = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        #expect(try refusal(["CHARTER_MASTER_KEY": stranger]).contains("does not open with this master key"))
        #expect(try refusal(["CHARTER_MASTER_KEY": "too short"]).contains("is not 32 bytes in base64"))

        #expect(chmod(keyFile, 0o644) == 0)
        #expect(try refusal().contains("readable by others"))
        #expect(chmod(keyFile, 0o600) == 0)

        try FileManager.default.removeItem(atPath: keyFile)
        #expect(try refusal().contains("is missing, but the database holds signing keys"))
        #expect(!FileManager.default.fileExists(atPath: keyFile), "no new key may replace the lost one")
    }

    @Test func theEnvironmentVariableReplacesTheFile() async throws {
        let (directory, database) = try ServeCommandTests.temporaryDatabase()
        defer { try? FileManager.default.removeItem(at: directory) }
        let masterKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let server = try ServerProcess(database: database, environment: ["CHARTER_MASTER_KEY": masterKey])
        defer { server.stop() }
        _ = try await Self.mintedIssuer(server, key: try #require(server.ownerKey))
        #expect(!FileManager.default.fileExists(atPath: String(database.dropFirst("sqlite:".count)) + ".master-key"))
        #expect(!server.output.contains(masterKey))
    }
}
