/// A jq-like path into an invocation's `args`, as UCAN 1.0 policies write it: `.`, `.a.b`, `.["a"]`,
/// `[0]`, `[-1]`, `[2:5]`, `[]`, each segment optionally followed by `?`.
///
/// Selection follows the spec's rules: a missing key on a map gives `null`; anything else that cannot be
/// resolved (a field of a non-map, an index out of range, an index of a non-list) fails the selection,
/// unless that segment is optional, in which case the selection ends there with `null`. Selection runs
/// left to right and stops at the first failure even if a later segment is optional.
public struct Selector: Sendable, Hashable, CustomStringConvertible {
    /// One step of a path.
    enum Segment: Sendable, Hashable {
        /// `.name` or `["name"]`: a map's field.
        case field(String)
        /// `[n]`: a list element or a byte (as an integer); negative counts from the end.
        case index(Int64)
        /// `[from:to]`: a half-open range of a list or of bytes; a missing bound is that end.
        case slice(from: Int64?, to: Int64?)
        /// `[]`: every value of a list or a map, the rest of the path applied to each.
        case values
    }

    /// A segment and whether it ends with `?`.
    struct Step: Sendable, Hashable {
        var segment: Segment
        var optional: Bool
    }

    /// The text as written; kept so that a policy re-encodes to the bytes it came from.
    public let description: String
    /// The parsed path; identity segments (`.`) leave no step.
    let steps: [Step]

    /// Parses a selector.
    /// - Parameter text: The selector as a policy writes it, such as `.to[0]` or `.["content-type"]?`.
    /// - Throws: `.invalidField` if the text is not a selector, `.tooLarge` past
    ///   ``PolicyLimits/maxSelectorBytes`` of the default limits.
    public init(_ text: String) throws(UCANError) {
        try self.init(parsing: text, field: nil, limits: .default)
    }

    init(description: String, steps: [Step]) {
        self.description = description
        self.steps = steps
    }

    /// Two selectors are the same when they are written the same; `.a` and `.["a"]` stay distinct so that
    /// a policy's identity follows its bytes.
    public static func == (lhs: Selector, rhs: Selector) -> Bool { lhs.description == rhs.description }

    /// Hashes the text, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    /// Selects from a value.
    ///
    /// With a `[]` segment the result is a list of what the rest of the path selects from each value,
    /// flattened when several `[]` follow one another, as jq's streams would be.
    /// - Parameter value: Usually an invocation's `args`.
    /// - Returns: The selected value (`null` for a missing key or a failed optional segment), or nil when
    ///   the path cannot be resolved.
    public func select(_ value: IPLD) -> IPLD? {
        var results: [IPLD] = []
        guard resolve(from: 0, value, into: &results) else { return nil }
        if steps.contains(where: { $0.segment == .values }) { return .list(results) }
        return results.first
    }

    /// Resolves `steps[start...]` against `value`, appending each result; false when it cannot be resolved.
    ///
    /// It recurses only at `[]`, so its depth is bounded by the selector's length.
    private func resolve(from start: Int, _ value: IPLD, into results: inout [IPLD]) -> Bool {
        var current = value
        var position = start
        while position < steps.count {
            let step = steps[position]
            position += 1
            if step.segment == .values {
                guard let children = current.policyValues else {
                    guard step.optional else { return false }
                    results.append(.null)
                    return true
                }
                for child in children where !resolve(from: position, child, into: &results) { return false }
                return true
            }
            guard let next = Self.apply(step.segment, to: current) else {
                guard step.optional else { return false }
                results.append(.null)
                return true
            }
            current = next
        }
        results.append(current)
        return true
    }

    /// One non-iterating segment applied to a value; nil when it does not apply.
    private static func apply(_ segment: Segment, to value: IPLD) -> IPLD? {
        switch (segment, value) {
        case (.field(let key), .map(let fields)):
            // A missing key selects null, as the spec requires; a key that only canonically matches
            // (another Unicode normalisation) is missing, since IPLD strings are compared as bytes.
            guard let found = fields.index(forKey: key), fields[found].key.utf8.elementsEqual(key.utf8) else {
                return .null
            }
            return fields[found].value
        case (.index(let index), .list(let elements)):
            return position(index, count: elements.count).map { elements[$0] }
        case (.index(let index), .bytes(let bytes)):
            return position(index, count: bytes.count).map { .integer(Int64(bytes[$0])) }
        case (.slice(let from, let to), .list(let elements)):
            return .list(Array(elements[range(from, to, count: elements.count)]))
        case (.slice(let from, let to), .bytes(let bytes)):
            return .bytes(Array(bytes[range(from, to, count: bytes.count)]))
        default:
            return nil
        }
    }

    /// The element an index names, counting from the end when negative; nil when out of range.
    private static func position(_ index: Int64, count: Int) -> Int? {
        let count = Int64(count)
        let resolved = index < 0 ? index + count : index
        guard resolved >= 0, resolved < count else { return nil }
        return Int(resolved)
    }

    /// The half-open range a slice names, clamped to the collection as jq and Python clamp it.
    private static func range(_ from: Int64?, _ to: Int64?, count: Int) -> Range<Int> {
        let count = Int64(count)
        func clamp(_ bound: Int64) -> Int64 { min(max(bound < 0 ? bound + count : bound, 0), count) }
        let lower = clamp(from ?? 0)
        let upper = clamp(to ?? count)
        return lower < upper ? Int(lower)..<Int(upper) : 0..<0
    }
}
