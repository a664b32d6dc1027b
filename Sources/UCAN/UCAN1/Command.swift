/// A UCAN 1.0 command: a lowercase slash path such as `/crud/read`, where a shorter path proves a longer one.
public struct Command: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `/`, "top": proves every command.
    public static let top = Command(checked: "/")

    /// The path, such as `/msg/send`.
    public let path: String

    /// Parses a command.
    /// - Throws: ``UCANError`` (`invalid_field`) unless it starts with `/`, has no trailing slash and no empty
    ///   segment, is lowercase, and holds no whitespace or control characters.
    public init(_ path: String, field: String = "cmd") throws(UCANError) {
        guard path.hasPrefix("/"), path == "/" || !path.hasSuffix("/"), !path.contains("//"),
            path.utf8.count <= Self.maxLength
        else {
            throw UCANError(.invalidField, field: field, "a command is a slash path such as /msg/send")
        }
        guard path == path.lowercased(),
            !path.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw UCANError(.invalidField, field: field, "a command is lowercase, without spaces or control characters")
        }
        self.path = path
    }

    private init(checked path: String) { self.path = path }

    /// The longest command accepted, in bytes.
    public static let maxLength = 256

    /// Whether this command, delegated, proves `other`: the same path or one below it, segment by segment
    /// (`/crypto` proves `/crypto/sign`, never `/cryptocurrency`).
    public func proves(_ other: Command) -> Bool {
        path == "/" || other.path == path || other.path.hasPrefix(path + "/")
    }

    /// Whether it lies in the reserved `/ucan` namespace.
    public var isReserved: Bool { path == "/ucan" || path.hasPrefix("/ucan/") }

    public var description: String { path }

    public static func < (lhs: Command, rhs: Command) -> Bool { lhs.path < rhs.path }
}
