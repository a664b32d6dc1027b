/// A UCAN 1.0 delegation's `pol`: a list of statements that an invocation's `args` must all satisfy.
///
/// Parsing refuses anything malformed, naming the place (`pol[1][2]`); evaluation never fails, it only
/// holds or not. The statements are kept exactly as given in ``ipld`` so that re-encoding a delegation
/// reproduces its bytes.
public struct Policy: Sendable, Hashable {
    /// The policy that constrains nothing: `[]`.
    public static var empty: Policy { Policy(ipld: [], statements: []) }

    /// The statements exactly as given.
    public let ipld: IPLD
    /// The parsed statements, one per element of ``ipld``.
    public let statements: [Statement]

    /// Parses a policy with the default limits.
    /// - Parameters:
    ///   - ipld: The `pol` field: a list of statements.
    ///   - field: Where the policy sits, prefixed to every error's field path.
    /// - Throws: `.invalidField` for a malformed statement or selector, `.tooLarge` past ``PolicyLimits/default``.
    public init(_ ipld: IPLD, field: String = "pol") throws(UCANError) {
        try self.init(ipld, field: field, limits: .default)
    }

    /// Parses a policy.
    /// - Parameters:
    ///   - ipld: The `pol` field: a list of statements.
    ///   - field: Where the policy sits, prefixed to every error's field path.
    ///   - limits: The bounds on nesting, statement count, selector length and literal depth.
    /// - Throws: `.invalidField` for a malformed statement or selector, `.tooLarge` past `limits`.
    public init(_ ipld: IPLD, field: String = "pol", limits: PolicyLimits) throws(UCANError) {
        guard let elements = ipld.listValue else {
            throw UCANError(.invalidField, field: field, "a policy is a list of statements")
        }
        var budget = Statement.Budget(limits: limits)
        var statements: [Statement] = []
        statements.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            statements.append(try Statement.parse(element, field: "\(field)[\(index)]", depth: 1, budget: &budget))
        }
        self.init(ipld: ipld, statements: statements)
    }

    private init(ipld: IPLD, statements: [Statement]) {
        self.ipld = ipld
        self.statements = statements
    }

    /// Two policies are the same when they were given the same statements.
    public static func == (lhs: Policy, rhs: Policy) -> Bool { lhs.ipld == rhs.ipld }

    /// Hashes the statements as given, consistent with `==`.
    public func hash(into hasher: inout Hasher) { hasher.combine(ipld) }

    /// Evaluates the policy against an invocation's arguments.
    ///
    /// A statement whose selector cannot be resolved does not hold, and neither does its negation.
    /// - Parameter args: The invocation's `args`.
    /// - Returns: nil when every statement holds; otherwise the first that does not.
    public func evaluate(_ args: IPLD) -> PolicyMismatch? {
        for (index, statement) in statements.enumerated() where statement.evaluate(args) != .holds {
            return PolicyMismatch(statement: ipld.listValue?[index] ?? statement.ipld, index: index)
        }
        return nil
    }

    /// A policy that holds only when both this one and `other` hold: this one's statements, then `other`'s.
    ///
    /// The result is not checked against ``PolicyLimits``: both parts were, and their sum costs no more
    /// to evaluate than the two separately.
    /// - Parameter other: The narrower constraint, such as a request's own policy.
    /// - Returns: The conjunction.
    public func and(_ other: Policy) -> Policy {
        if other.statements.isEmpty { return self }
        if statements.isEmpty { return other }
        let given = (ipld.listValue ?? []) + (other.ipld.listValue ?? [])
        return Policy(ipld: .list(given), statements: statements + other.statements)
    }
}
