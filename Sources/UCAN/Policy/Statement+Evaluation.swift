/// A statement's outcome in Kleene's three-valued logic.
///
/// `unresolved` is a statement whose selector found nothing. It fails like `fails`, but `not` keeps it
/// unresolved instead of turning it into a pass: that is the only reading under which both of the spec's
/// rules hold at once, "`!=` is `not ==`" and "a statement whose selector cannot be resolved is false".
enum Truth: Sendable, Hashable {
    case holds
    case fails
    case unresolved
}

extension Statement {
    /// Evaluates the statement against `value` (the arguments, or one element under a quantifier).
    ///
    /// Recursion is bounded by the statement's depth; each quantifier visits its collection once.
    func evaluate(_ value: IPLD) -> Truth {
        switch self {
        case .equal(let selector, let expected):
            guard let selected = selector.select(value) else { return .unresolved }
            return selected.policyEquals(expected) ? .holds : .fails
        case .notEqual(let selector, let expected):
            guard let selected = selector.select(value) else { return .unresolved }
            return selected.policyEquals(expected) ? .fails : .holds
        case .lessThan(let selector, let bound):
            return Self.compare(selector, value, bound) { $0 < 0 }
        case .lessThanOrEqual(let selector, let bound):
            return Self.compare(selector, value, bound) { $0 <= 0 }
        case .greaterThan(let selector, let bound):
            return Self.compare(selector, value, bound) { $0 > 0 }
        case .greaterThanOrEqual(let selector, let bound):
            return Self.compare(selector, value, bound) { $0 >= 0 }
        case .like(let selector, let glob):
            guard let selected = selector.select(value) else { return .unresolved }
            guard let text = selected.stringValue else { return .fails }
            return glob.matches(text) ? .holds : .fails
        case .and(let statements):
            return Self.conjunction(statements.lazy.map { $0.evaluate(value) })
        case .or(let statements):
            // The spec makes an empty `or` hold.
            if statements.isEmpty { return .holds }
            return Self.disjunction(statements.lazy.map { $0.evaluate(value) })
        case .not(let statement):
            switch statement.evaluate(value) {
            case .holds: return .fails
            case .fails: return .holds
            case .unresolved: return .unresolved
            }
        case .all(let selector, let statement):
            guard let selected = selector.select(value) else { return .unresolved }
            guard let elements = selected.policyValues else { return .fails }
            return Self.conjunction(elements.lazy.map { statement.evaluate($0) })
        case .any(let selector, let statement):
            guard let selected = selector.select(value) else { return .unresolved }
            // Nothing exists in an empty collection, so `any` over one fails (see the README's deviations).
            guard let elements = selected.policyValues else { return .fails }
            return Self.disjunction(elements.lazy.map { statement.evaluate($0) })
        }
    }

    /// A numeric comparison of the selection with `bound`; a selection that is not a number fails.
    private static func compare(
        _ selector: Selector, _ value: IPLD, _ bound: IPLD, _ accepts: (Int) -> Bool
    ) -> Truth {
        guard let selected = selector.select(value) else { return .unresolved }
        guard let order = IPLD.numericOrder(selected, bound) else { return .fails }
        return accepts(order) ? .holds : .fails
    }

    /// Kleene's `and`: a failure decides; otherwise anything unresolved leaves the whole unresolved.
    private static func conjunction(_ outcomes: some Sequence<Truth>) -> Truth {
        var result = Truth.holds
        for outcome in outcomes {
            if outcome == .fails { return .fails }
            if outcome == .unresolved { result = .unresolved }
        }
        return result
    }

    /// Kleene's `or`: a pass decides; otherwise anything unresolved leaves the whole unresolved.
    private static func disjunction(_ outcomes: some Sequence<Truth>) -> Truth {
        var result = Truth.fails
        for outcome in outcomes {
            if outcome == .holds { return .holds }
            if outcome == .unresolved { result = .unresolved }
        }
        return result
    }
}
