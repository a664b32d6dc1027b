import CharterCore
import CharterServer
import Foundation
import HTTPTypes
import Testing

/// Specs/openapi.yaml must describe every route the server registers, with its method and permission.
@Suite struct OpenAPISpecTests {
    static let spec: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("Specs/openapi.yaml"), encoding: .utf8)) ?? ""
    }()

    /// The block of the spec under `  /path:` up to the next path.
    static func block(for path: String) -> String? {
        let lines = spec.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "  \(path):") else { return nil }
        let end = lines[(start + 1)...].firstIndex { $0.hasPrefix("  /") || !$0.hasPrefix(" ") && !$0.isEmpty }
        return lines[start..<(end ?? lines.endIndex)].joined(separator: "\n")
    }

    /// The operation under `    method:` in a path's block, up to the next entry at that indentation.
    static func operation(_ method: String, in block: String) -> String? {
        let lines = block.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "    \(method):") else { return nil }
        let end = lines[(start + 1)...].firstIndex { !$0.isEmpty && !$0.hasPrefix("     ") }
        return lines[start..<(end ?? lines.endIndex)].joined(separator: "\n")
    }

    /// The spec's form of a route path: every `:name` segment becomes `{name}`.
    static func specPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }.joined(separator: "/")
    }

    @Test func pathParametersAreConverted() {
        #expect(Self.specPath("/v1/tokens/:cid/revoke") == "/v1/tokens/{cid}/revoke")
        #expect(Self.specPath("/v1/keys/:id") == "/v1/keys/{id}")
        #expect(Self.specPath("/v1/me") == "/v1/me")
    }

    @Test(arguments: Endpoint.api)
    func theSpecDescribesTheRoute(endpoint: Endpoint) throws {
        let path = Self.specPath(endpoint.path)
        let block = try #require(Self.block(for: path), "\(path) is missing from Specs/openapi.yaml")
        let method = endpoint.method.rawValue.lowercased()
        #expect(block.contains("\n    \(method):"), "\(endpoint) is missing")
        let permission = endpoint.permission?.rawValue ?? "null"
        #expect(block.contains("x-charter-permission: \(permission)"), "\(endpoint) should name \(permission)")
    }

    @Test(arguments: Endpoint.published)
    func theSpecDescribesThePublicRoute(endpoint: Endpoint) throws {
        let path = Self.specPath(endpoint.path)
        let block = try #require(Self.block(for: path), "\(path) is missing from Specs/openapi.yaml")
        let method = endpoint.method.rawValue.lowercased()
        let operation = try #require(Self.operation(method, in: block), "\(endpoint) is missing")
        #expect(operation.contains("\n      x-charter-permission: null"), "\(endpoint) should name no permission")
        #expect(operation.contains("\n      security: []"), "\(endpoint) should need no API key")
    }

    @Test func theSpecListsExactlyThePermissions() throws {
        let lines = Self.spec.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex(of: "    Permission:"), "the Permission schema is missing")
        let listed = lines[(start + 1)...].drop { !$0.hasPrefix("      enum:") }.dropFirst()
            .prefix { $0.hasPrefix("        - ") }.map { String($0.dropFirst("        - ".count)) }
        #expect(listed == Permission.allCases.map(\.rawValue), "in the order Permission declares them")
    }
}
