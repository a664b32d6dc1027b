/// One parsed policy statement: a comparison, a glob match, a connective or a quantifier.
///
/// Build statements by parsing a ``Policy``; the cases are public so that callers can inspect a policy
/// (the CLI, tests), and ``ipld`` writes a statement back in the spec's tuple form.
public indirect enum Statement: Sendable, Hashable {
    /// `["==", selector, value]`: the selection deeply equals `value`; numbers compare by value, so
    /// `1 == 1.0`.
    case equal(Selector, IPLD)
    /// `["!=", selector, value]`: `["not", ["==", selector, value]]`.
    case notEqual(Selector, IPLD)
    /// `["<", selector, number]`; false for a selection that is not a number.
    case lessThan(Selector, IPLD)
    /// `["<=", selector, number]`; false for a selection that is not a number.
    case lessThanOrEqual(Selector, IPLD)
    /// `[">", selector, number]`; false for a selection that is not a number.
    case greaterThan(Selector, IPLD)
    /// `[">=", selector, number]`; false for a selection that is not a number.
    case greaterThanOrEqual(Selector, IPLD)
    /// `["like", selector, pattern]`: the selection is a string the glob matches; false otherwise.
    case like(Selector, Glob)
    /// `["and", [statements]]`: every statement holds; `[]` holds.
    case and([Statement])
    /// `["or", [statements]]`: at least one statement holds; `[]` holds, as the spec requires.
    case or([Statement])
    /// `["not", statement]`: the statement does not hold.
    case not(Statement)
    /// `["all", selector, statement]`: the statement holds for every value of the selected list or map.
    case all(Selector, Statement)
    /// `["any", selector, statement]`: the statement holds for at least one value of the selected list or
    /// map; false for an empty one.
    case any(Selector, Statement)

    /// The statement in the spec's tuple form, as a policy writes it.
    public var ipld: IPLD {
        switch self {
        case .equal(let selector, let value): ["==", .string(selector.description), value]
        case .notEqual(let selector, let value): ["!=", .string(selector.description), value]
        case .lessThan(let selector, let value): ["<", .string(selector.description), value]
        case .lessThanOrEqual(let selector, let value): ["<=", .string(selector.description), value]
        case .greaterThan(let selector, let value): [">", .string(selector.description), value]
        case .greaterThanOrEqual(let selector, let value): [">=", .string(selector.description), value]
        case .like(let selector, let glob): ["like", .string(selector.description), .string(glob.description)]
        case .and(let statements): ["and", .list(statements.map(\.ipld))]
        case .or(let statements): ["or", .list(statements.map(\.ipld))]
        case .not(let statement): ["not", statement.ipld]
        case .all(let selector, let statement): ["all", .string(selector.description), statement.ipld]
        case .any(let selector, let statement): ["any", .string(selector.description), statement.ipld]
        }
    }
}
