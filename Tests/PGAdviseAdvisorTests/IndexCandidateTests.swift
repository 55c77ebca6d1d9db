@testable import PGAdviseAdvisor
import PGAdviseCore
import Testing

/// The search widens and replaces chosen indexes by these relations: they must never reach across
/// tables that happen to share column names (`created_at`, `user_id` are everywhere).
@Suite struct IndexCandidateTests {
    let orders = QualifiedName(schema: "public", "orders")
    let events = QualifiedName(schema: "public", "events")

    @Test func aPrefixIsOnTheSameTable() {
        let narrow = IndexCandidate(table: orders, keys: [.column("created_at")])
        #expect(narrow.isPrefix(of: IndexCandidate(table: orders, keys: [.column("created_at"), .column("status")])))
        #expect(!narrow.isPrefix(of: IndexCandidate(table: events, keys: [.column("created_at"), .column("kind")])))
    }

    @Test func sameKeysIgnoresIncludeButNotTableOrPredicate() {
        let covering = IndexCandidate(table: orders, keys: [.column("customer_id")], include: ["total"])
        #expect(covering.hasSameKeys(as: IndexCandidate(table: orders, keys: [.column("customer_id")], include: ["status"])))
        #expect(!covering.hasSameKeys(as: IndexCandidate(table: events, keys: [.column("customer_id")])))
        #expect(!covering.hasSameKeys(as: IndexCandidate(table: orders, keys: [.column("customer_id")], predicate: "status = 'pending'")))
    }
}
