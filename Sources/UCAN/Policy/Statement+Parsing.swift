extension Statement {
    /// What a policy may still spend while it is parsed.
    struct Budget {
        let limits: PolicyLimits
        var statements = 0
    }

    /// Parses the statement at `field`, `depth` levels down (a top-level statement is at depth 1).
    ///
    /// Limits are checked before recursing, so the stack never grows past ``PolicyLimits/maxDepth`` frames.
    static func parse(_ ipld: IPLD, field: String, depth: Int, budget: inout Budget) throws(UCANError) -> Statement {
        guard depth <= budget.limits.maxDepth else {
            throw UCANError(.tooLarge, field: field, "statements may nest at most \(budget.limits.maxDepth) deep")
        }
        budget.statements += 1
        guard budget.statements <= budget.limits.maxStatements else {
            throw UCANError(
                .tooLarge, field: field, "a policy may hold at most \(budget.limits.maxStatements) statements")
        }
        guard let parts = ipld.listValue, let first = parts.first else {
            throw UCANError(.invalidField, field: field, "a statement is a list that begins with its operator")
        }
        guard let op = first.stringValue else {
            throw UCANError(.invalidField, field: "\(field)[0]", "an operator is a string")
        }
        func arity(_ count: Int, _ shape: String) throws(UCANError) {
            guard parts.count == count else { throw UCANError(.invalidField, field: field, "'\(op)' takes \(shape)") }
        }
        func selector() throws(UCANError) -> Selector {
            guard let text = parts[1].stringValue else {
                throw UCANError(.invalidField, field: "\(field)[1]", "a selector is a string")
            }
            return try Selector(parsing: text, field: "\(field)[1]", limits: budget.limits)
        }
        switch op {
        case "==", "!=":
            try arity(3, "a selector and a value")
            let selector = try selector()
            guard !exceedsDepth(parts[2], budget.limits.maxValueDepth) else {
                throw UCANError(
                    .tooLarge, field: "\(field)[2]", "a value may nest at most \(budget.limits.maxValueDepth) deep")
            }
            return op == "==" ? .equal(selector, parts[2]) : .notEqual(selector, parts[2])
        case "<", "<=", ">", ">=":
            try arity(3, "a selector and a number")
            let selector = try selector()
            switch parts[2] {
            case .integer: break
            case .float(let value) where value.isFinite: break
            default: throw UCANError(.invalidField, field: "\(field)[2]", "'\(op)' compares with a number")
            }
            return switch op {
            case "<": .lessThan(selector, parts[2])
            case "<=": .lessThanOrEqual(selector, parts[2])
            case ">": .greaterThan(selector, parts[2])
            default: .greaterThanOrEqual(selector, parts[2])
            }
        case "like":
            try arity(3, "a selector and a pattern")
            let selector = try selector()
            guard let pattern = parts[2].stringValue else {
                throw UCANError(.invalidField, field: "\(field)[2]", "a 'like' pattern is a string")
            }
            return .like(selector, Glob(pattern))
        case "and", "or":
            try arity(2, "a list of statements")
            guard let elements = parts[1].listValue else {
                throw UCANError(.invalidField, field: "\(field)[1]", "'\(op)' takes a list of statements")
            }
            var statements: [Statement] = []
            statements.reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                statements.append(try parse(element, field: "\(field)[1][\(index)]", depth: depth + 1, budget: &budget))
            }
            return op == "and" ? .and(statements) : .or(statements)
        case "not":
            try arity(2, "one statement")
            return .not(try parse(parts[1], field: "\(field)[1]", depth: depth + 1, budget: &budget))
        case "all", "any":
            try arity(3, "a selector and a statement")
            let selector = try selector()
            let statement = try parse(parts[2], field: "\(field)[2]", depth: depth + 1, budget: &budget)
            return op == "all" ? .all(selector, statement) : .any(selector, statement)
        default:
            throw UCANError(
                .invalidField, field: "\(field)[0]",
                "unknown operator; expected ==, !=, <, <=, >, >=, like, and, or, not, all or any")
        }
    }

    /// Whether `value` nests lists and maps more than `limit` deep, found without recursion so that a
    /// hostile literal cannot exhaust the stack.
    private static func exceedsDepth(_ value: IPLD, _ limit: Int) -> Bool {
        var pending: [(value: IPLD, depth: Int)] = [(value, 0)]
        while let (current, depth) = pending.popLast() {
            let children: [IPLD]
            switch current {
            case .list(let elements): children = elements
            case .map(let fields): children = Array(fields.values)
            default: continue
            }
            guard depth < limit else { return true }
            pending.append(contentsOf: children.lazy.map { ($0, depth + 1) })
        }
        return false
    }
}
