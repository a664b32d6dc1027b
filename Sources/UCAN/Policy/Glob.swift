/// A `like` pattern: `*` matches zero or more characters, `\*` is a literal star, and nothing else is
/// special.
///
/// A backslash escapes only a star or another backslash (`\\` is one literal backslash, so that a
/// pattern can end in a literal backslash before a wildcard); before anything else it is itself literal.
/// Matching compares UTF-8 bytes, with no Unicode normalisation, since policy arguments are taken
/// verbatim. It runs in time linear in the pattern and the text: the literal pieces between wildcards
/// are found left to right with Knuth–Morris–Pratt, so no pattern can force backtracking.
public struct Glob: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let description: String
    /// The literal pieces between wildcards, unescaped; one more than there are wildcards.
    private let pieces: [[UInt8]]

    /// Parses a pattern; every string is a valid pattern.
    /// - Parameter pattern: The pattern, such as `*@example.com`.
    public init(_ pattern: String) {
        description = pattern
        var pieces: [[UInt8]] = [[]]
        var escaped = false
        for byte in pattern.utf8 {
            if escaped {
                escaped = false
                if byte == UInt8(ascii: "*") || byte == UInt8(ascii: "\\") {
                    pieces[pieces.count - 1].append(byte)
                    continue
                }
                pieces[pieces.count - 1].append(UInt8(ascii: "\\"))
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "*") {
                pieces.append([])
            } else {
                pieces[pieces.count - 1].append(byte)
            }
        }
        if escaped { pieces[pieces.count - 1].append(UInt8(ascii: "\\")) }
        self.pieces = pieces
    }

    /// Two globs are the same when written the same.
    public static func == (lhs: Glob, rhs: Glob) -> Bool { lhs.description == rhs.description }

    /// Hashes the text, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    /// Whether the whole of `text` matches the pattern.
    /// - Parameter text: The string selected from the arguments.
    /// - Returns: True when the pattern matches all of `text`.
    public func matches(_ text: String) -> Bool {
        let text = Array(text.utf8)
        guard let first = pieces.first, let last = pieces.last, pieces.count > 1 else { return text == pieces[0] }
        guard text.count >= first.count + last.count, text.starts(with: first),
            text.suffix(last.count).elementsEqual(last)
        else { return false }
        // Between the fixed prefix and suffix, taking each middle piece at its leftmost occurrence is
        // optimal: any later match leaves less room for the pieces after it.
        var start = first.count
        let end = text.count - last.count
        for piece in pieces.dropFirst().dropLast() where !piece.isEmpty {
            guard let found = Self.find(piece, in: text, from: start, to: end) else { return false }
            start = found + piece.count
        }
        return true
    }

    /// The first index at which `needle` occurs wholly within `haystack[from..<to]`, by Knuth–Morris–Pratt.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int, to: Int) -> Int? {
        var failure = [Int](repeating: 0, count: needle.count)
        var length = 0
        for index in needle.indices.dropFirst() {
            while length > 0, needle[index] != needle[length] { length = failure[length - 1] }
            if needle[index] == needle[length] { length += 1 }
            failure[index] = length
        }
        var matched = 0
        var index = from
        while index < to {
            while matched > 0, haystack[index] != needle[matched] { matched = failure[matched - 1] }
            if haystack[index] == needle[matched] { matched += 1 }
            if matched == needle.count { return index + 1 - needle.count }
            index += 1
        }
        return nil
    }
}
