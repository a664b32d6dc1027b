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

    @Test(arguments: Endpoint.all)
    func theSpecDescribesTheRoute(endpoint: Endpoint) throws {
        let path = endpoint.path.replacingOccurrences(of: ":id", with: "{id}")
        let block = try #require(Self.block(for: path), "\(path) is missing from Specs/openapi.yaml")
        let method = endpoint.method.rawValue.lowercased()
        #expect(block.contains("\n    \(method):"), "\(endpoint) is missing")
        let permission = endpoint.permission?.rawValue ?? "null"
        #expect(block.contains("x-charter-permission: \(permission)"), "\(endpoint) should name \(permission)")
    }
}
