@testable import PGAdviseSources
import Testing

/// pg_stat_statements' columns by extension version; only 1.10 (PostgreSQL 15) runs in the
/// integration tests, so the older and newer names are checked on the generated SQL.
@Suite struct PostgresStatementColumnsTests {
    @Test func postgres12AndOlderUseTotalTime() {
        let sql = StatementColumns(extensionVersion: "1.7").topStatementsSQL(view: "public.pg_stat_statements")
        #expect(sql.contains("total_time AS total_ms") && sql.contains("stddev_time AS stddev_ms"))
        #expect(!sql.contains("exec_time") && !sql.contains("toplevel"))
        #expect(!StatementColumns(extensionVersion: "1.7").hasInfoView)
    }

    @Test func postgres13UsesExecTimeWithoutTopLevel() {
        let columns = StatementColumns(extensionVersion: "1.8")
        let sql = columns.topStatementsSQL(view: "public.pg_stat_statements")
        #expect(sql.contains("total_exec_time AS total_ms") && sql.contains("mean_exec_time AS mean_ms"))
        #expect(sql.contains("true AS top_level") && !columns.hasInfoView)
    }

    @Test func postgres14To17AddTopLevelAndTheInfoView() {
        for version in ["1.9", "1.10", "1.11"] {
            let columns = StatementColumns(extensionVersion: version)
            #expect(columns.topStatementsSQL(view: "x").contains("toplevel AS top_level"), "\(version)")
            #expect(columns.hasInfoView && columns.timeSuffix == "exec_time", "\(version)")
        }
    }
}
