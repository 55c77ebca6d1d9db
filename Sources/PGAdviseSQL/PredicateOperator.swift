/// An operator as a predicate or join condition records it: word operators upper-cased (`LIKE`,
/// `NOT IN`, `IS NULL`, `> ANY`), symbols as written (`=`, `@>`, `?|`), `!=` as `<>`. Rules compare
/// it with the named constants below instead of string literals; any other operator PostgreSQL
/// accepts (`~`, `@@`, a user-defined one) is kept by its text.
public struct PredicateOperator: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    public static let equal: PredicateOperator = "="
    public static let notEqual: PredicateOperator = "<>"
    public static let less: PredicateOperator = "<"
    public static let lessOrEqual: PredicateOperator = "<="
    public static let greater: PredicateOperator = ">"
    public static let greaterOrEqual: PredicateOperator = ">="
    /// `IN (...)`, and `= ANY (...)`.
    public static let `in`: PredicateOperator = "IN"
    /// `NOT IN (...)`, and `<> ALL (...)`.
    public static let notIn: PredicateOperator = "NOT IN"
    public static let between: PredicateOperator = "BETWEEN"
    public static let like: PredicateOperator = "LIKE"
    public static let ilike: PredicateOperator = "ILIKE"
    public static let isNull: PredicateOperator = "IS NULL"
    public static let isNotNull: PredicateOperator = "IS NOT NULL"
    public static let isDistinctFrom: PredicateOperator = "IS DISTINCT FROM"
    public static let isNotDistinctFrom: PredicateOperator = "IS NOT DISTINCT FROM"
    /// jsonb and array containment, and array overlap.
    public static let contains: PredicateOperator = "@>"
    public static let containedBy: PredicateOperator = "<@"
    public static let overlaps: PredicateOperator = "&&"
    public static let textSearchMatch: PredicateOperator = "@@"

    /// The operator with its operands swapped (`5 < x` is `x > 5`); nil when it has no such form.
    public var commuted: PredicateOperator? {
        switch self {
        case .equal, .notEqual, .overlaps, .textSearchMatch, .isDistinctFrom, .isNotDistinctFrom: return self
        case .less: return .greater
        case .greater: return .less
        case .lessOrEqual: return .greaterOrEqual
        case .greaterOrEqual: return .lessOrEqual
        case .contains: return .containedBy
        case .containedBy: return .contains
        default: return nil
        }
    }
}
