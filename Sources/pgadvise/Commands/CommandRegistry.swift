import ArgumentParser

/// Every subcommand, in the order `pgadvise --help` lists them.
let commandRegistry: [ParsableCommand.Type] = [
    LogsCommand.self,
    ScanCommand.self,
    IndexesCommand.self,
    ExplainCommand.self,
    LintCommand.self,
    RulesCommand.self,
    SnapshotCommand.self,
    ReportCommand.self,
    PoolCommand.self,
]
