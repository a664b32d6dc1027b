/// Bounds that keep a hostile policy from costing unbounded time, memory or stack.
///
/// Parsing checks every bound before it recurses, so a policy nested a million levels deep is refused
/// at the first level past ``maxDepth`` rather than exhausting the stack. Evaluation needs no bound of
/// its own: it recurses no deeper than the statements and the `==` literals, and each quantifier visits
/// a collection once.
public struct PolicyLimits: Sendable, Hashable {
    /// The defaults: statements 32 deep, 256 statements in all, selectors of 256 bytes, literals 32 deep.
    public static let `default` = PolicyLimits()

    /// The deepest a statement may sit; a top-level statement is at depth 1 and each `and`, `or`, `not`,
    /// `all` or `any` adds one.
    public var maxDepth: Int
    /// The most statements a policy may hold, nested ones included.
    public var maxStatements: Int
    /// The longest selector accepted, in UTF-8 bytes.
    public var maxSelectorBytes: Int
    /// The deepest an `==` or `!=` literal may nest lists and maps; it bounds the deep comparison's stack.
    public var maxValueDepth: Int

    /// Creates limits.
    /// - Parameters:
    ///   - maxDepth: The deepest a statement may sit.
    ///   - maxStatements: The most statements in all.
    ///   - maxSelectorBytes: The longest selector, in UTF-8 bytes.
    ///   - maxValueDepth: The deepest an equality literal may nest.
    public init(maxDepth: Int = 32, maxStatements: Int = 256, maxSelectorBytes: Int = 256, maxValueDepth: Int = 32) {
        self.maxDepth = maxDepth
        self.maxStatements = maxStatements
        self.maxSelectorBytes = maxSelectorBytes
        self.maxValueDepth = maxValueDepth
    }
}
