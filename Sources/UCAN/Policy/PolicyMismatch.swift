/// The first top-level statement of a policy that an invocation's arguments did not satisfy.
///
/// The description shows the statement, which comes from the delegation, and never the arguments,
/// which may hold anything the invoker sent.
public struct PolicyMismatch: Sendable, Hashable, CustomStringConvertible {
    /// The failing statement as the policy wrote it.
    public let statement: IPLD
    /// Its position in the policy.
    public let index: Int

    /// Creates a mismatch report.
    /// - Parameters:
    ///   - statement: The failing statement as the policy wrote it.
    ///   - index: Its position in the policy.
    public init(statement: IPLD, index: Int) {
        self.statement = statement
        self.index = index
    }

    /// One line, such as `["like", ".to", "*@example.com"] did not hold`.
    public var description: String { "\(statement.policyText) did not hold" }
}
