import PGAdviseCore
import Testing

/// The one writer of CREATE INDEX: what a DBA pastes into psql.
struct IndexDefinitionTests {
    let orders = QualifiedName(schema: "public", "orders")

    @Test func aPlainBTreeNamesNoMethod() {
        #expect(createIndexStatement(on: orders, keys: ["customer_id"], concurrently: true)
                == "CREATE INDEX CONCURRENTLY ON public.orders (customer_id)")
    }

    @Test func everyClauseInPostgreSQLsOrder() {
        let sql = createIndexStatement(on: QualifiedName(schema: "Sales", "order lines"), keys: ["\"Customer\"", "created_at DESC"],
                                       name: "order lines_idx", method: "btree", include: ["total", "Note"],
                                       predicate: "status = 'open'", concurrently: true)
        #expect(sql == "CREATE INDEX CONCURRENTLY \"order lines_idx\" ON \"Sales\".\"order lines\" (\"Customer\", created_at DESC) "
                + "INCLUDE (total, \"Note\") WHERE status = 'open'")
    }

    @Test func anotherMethodIsSpelledOut() {
        #expect(createIndexStatement(on: orders, keys: ["note gin_trgm_ops"], method: "gin")
                == "CREATE INDEX ON public.orders USING gin (note gin_trgm_ops)")
    }
}
