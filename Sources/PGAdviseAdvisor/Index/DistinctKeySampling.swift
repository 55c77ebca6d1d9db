import PGAdviseCore
import PGAdviseSources

extension IndexAdvisor {
    /// Sampling stops after this many column sets: each reads a few hundred pages, and the sets come
    /// widest size spread first, so later ones matter least.
    static let maximumSampledColumnSets = 64

    /// Distinct key combinations of the multicolumn B-tree candidates whose size the column
    /// statistics leave open: from extended statistics where they cover the columns, else counted
    /// in a block sample of the table, in this session (its statement and lock timeouts apply). A
    /// set whose sample fails (timeout, lock, permission) keeps the independence estimate, and one
    /// note says so; the advice goes on.
    func distinctKeyCounts(for candidates: [IndexCandidate], notes: inout [String]) throws -> [KeyColumnSet: DistinctKeyCount] {
        let open = sizes.columnSetsWorthSampling(candidates, catalog: catalog)
        guard !open.isEmpty else { return [:] }
        let sampler = DistinctKeySampler(connection: connection)
        var counts: [KeyColumnSet: DistinctKeyCount] = [:]
        do {
            for stat in try sampler.extendedStatisticsDistinct() {
                let set = KeyColumnSet(table: stat.table, columns: stat.columns)
                if counts[set] == nil { counts[set] = DistinctKeyCount(stat.distinct, from: .extendedStatistics) }
            }
        } catch let error as PostgresError {
            trace("extended statistics not read: \(error.message)")
        }
        var failures: [String] = []
        var sampled = 0
        for set in open where counts[set] == nil && sampled < Self.maximumSampledColumnSets {
            guard let table = catalog.table(set.table), let rows = table.rowEstimate, let bytes = table.sizeBytes else { continue }
            sampled += 1
            let percent = DistinctKeySampler.samplePercent(rows: rows, bytes: bytes)
            do {
                let sample = try sampler.sample(table: table.name, columns: set.columns, percent: percent)
                let estimate = sample.estimatedDistinct(totalRows: rows)
                trace("distinct keys \(set): \(percent)% sample, \(sample.sampledRows) rows, n=\(sample.keyPages) "
                      + "d=\(sample.distinct) f1=\(sample.onOnePage) -> \(estimate.map { String($0) } ?? "empty sample")")
                if let estimate { counts[set] = DistinctKeyCount(estimate, from: .sample) }
            } catch let error as PostgresError {
                failures.append("\(set): \(error.message)")
            }
        }
        if let first = failures.first {
            notes.append("Could not count distinct key combinations in a sample for \(failures.count) column set"
                         + (failures.count == 1 ? "" : "s") + " (\(first)); "
                         + (failures.count == 1 ? "its size estimate assumes" : "their size estimates assume")
                         + " independent columns and may be too large.")
        }
        return counts.filter { open.contains($0.key) }
    }
}
