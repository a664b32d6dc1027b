import Foundation

/// Runs the built `charter` executable, as other tools will.
enum CLI {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
        var line: String { stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    /// The executable beside the test bundle (both live in SwiftPM's bin directory).
    static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["CHARTER_BIN"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "charter")
    }()

    static func run(_ arguments: String...) throws -> Result { try run(arguments) }

    /// Runs `charter` with `environment` added to this process's own, minus any `CHARTER_API_KEY`
    /// inherited from the developer's shell, so a test sees only the key it passes.
    static func run(_ arguments: String..., environment: [String: String]) throws -> Result {
        try run(arguments, environment: environment)
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        var inherited = ProcessInfo.processInfo.environment
        if environment != nil { inherited["CHARTER_API_KEY"] = nil }
        let child = try Spawned(executable.path, arguments, environment: inherited.merging(environment ?? [:]) { $1 })
        let (status, stdout, stderr) = child.wait()
        guard let status else { preconditionFailure("charter was killed by a signal") }
        return Result(
            status: status, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
