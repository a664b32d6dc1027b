/// A `major.minor.patch` version as `ucv` carries it.
public struct SemanticVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The UCAN version this library writes.
    public static let ucan = SemanticVersion(major: 0, minor: 10, patch: 0)

    public let major: Int
    public let minor: Int
    public let patch: Int

    /// Creates a version from its parts.
    public init(major: Int, minor: Int, patch: Int) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses `major.minor.patch` in decimal without leading zeros; nil otherwise.
    public init?(_ text: String) {
        if text == "0.10.0" {
            self = .ucan
            return
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var numbers: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 9, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part == "0" || part.first != "0", let number = Int(part)
            else { return nil }
            numbers.append(number)
        }
        self.init(major: numbers[0], minor: numbers[1], patch: numbers[2])
    }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.major, lhs.minor, lhs.patch) < (rhs.major, rhs.minor, rhs.patch)
    }
}
