import PGAdviseCore
import PGAdviseSQL

/// `= NULL` / `<> NULL`: never true.
public struct NullComparisonRule: QueryRule {
    public static let description = RuleDescription(
        id: "null-comparison", severity: .error, category: .correctness,
        summary: "Comparing with NULL using = or <> is never true, so the condition filters out every row.",
        rationale: """
        Any comparison with NULL yields NULL, which WHERE treats as false: `deleted_at = NULL` matches no \
        row and `deleted_at <> NULL` matches none either. (Only with the non-default setting \
        `transform_null_equals` does `= NULL` mean IS NULL.)
        """,
        solution: "Use IS NULL / IS NOT NULL, or IS [NOT] DISTINCT FROM to compare values that may be NULL.",
        triggering: [
            Example("SELECT id FROM users WHERE deleted_at ↓= NULL"),
            Example("UPDATE tasks SET done = true WHERE owner_id ↓<> NULL"),
            Example("SELECT id FROM users WHERE NULL ↓= deleted_at"),
        ],
        nonTriggering: [
            Example("SELECT id FROM users WHERE deleted_at IS NULL"),
            Example("UPDATE users SET deleted_at = NULL WHERE id = $1"),
            Example("SELECT id FROM users WHERE deleted_at IS DISTINCT FROM $1"),
        ])

    public init() {}

    public func check(_ query: QueryShape, in context: RuleContext) -> [Violation] {
        var out: [Violation] = []
        for block in query.blocks {
            for p in block.predicates where (p.comparison == .equal || p.comparison == .notEqual) && p.value == .constant(.null) {
                let replacement = p.comparison == .equal ? "IS NULL" : "IS NOT NULL"
                out.append(Violation(
                    message: "`\(p.conditionText)` is never true: a comparison with NULL yields NULL.",
                    location: p.location, evidence: p.conditionText,
                    fix: p.isWrapped ? nil : "\(p.column.written) \(replacement)"))
            }
        }
        return out
    }
}
