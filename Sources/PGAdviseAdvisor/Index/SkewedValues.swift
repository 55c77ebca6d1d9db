import Foundation
import PGAdviseCore
import PGAdviseSQL
import PGAdviseSources

/// A generic plan costs `col = $1` at the column's average selectivity. On a skewed column that
/// average describes no real call: `WHERE status = $1 ORDER BY created_at LIMIT 20` looks cheap with
/// an index on created_at for an average status, and walks most of it for a rare one; `WHERE
/// customer_id = $1 ORDER BY created_at DESC LIMIT 20` looks cheap with (customer_id) alone for
/// the average customer, and sorts thousands of rows for a large account. So a statement with an
/// equality parameter on a skewed column is also costed under custom plans (PostgreSQL's own
/// choice for the first executions of a prepared statement, and whenever they pay) for a frequent
/// and a rare value from pg_stats: the most common value, and a value of the histogram (not a most
/// common one) or else the least common one. Which values the application passes is unknown, so
/// the generic plan and the two custom plans share the statement's calls equally: the worst case
/// weighs as a risk without being taken for the only case.
extension IndexAdvisor {
    /// A column is skewed when its most common value is at least this many times as frequent as
    /// the rare value: an order of magnitude in the row estimate is where plan choices flip (the
    /// planner's MCV statistics exist for this; PostgreSQL docs, "Statistics Used by the Planner").
    static let skewRatio = 10.0

    struct SkewedParameter {
        var number: Int
        var column: String
        var frequent: (value: String, share: Double)
        var rare: (value: String, share: Double)
    }

    /// The statements plus, for each generic one with an equality parameter on a skewed column, its
    /// two custom plans (ids continue after the last statement); notes for the reader.
    func withSkewedValuePlans(_ statements: [CostedStatement], session: WhatIfSession, notes: inout [String]) throws -> [CostedStatement] {
        var out = statements
        var costed = 0
        for statement in statements where statement.mode == .generic && statement.parameterCount > 0 {
            guard let skewed = skewedParameter(in: statement) else { continue }
            var variants: [CostedStatement] = []
            for (label, pick) in [("frequent", skewed.frequent), ("rare", skewed.rare)] {
                guard let values = representativeValues(for: statement, catalog: catalog, known: [skewed.number: pick.value]) else { continue }
                var variant = statement
                variant.id = out.count + variants.count
                variant.mode = .boundValues(values.map { Optional($0) })
                variant.customPlan = "$\(skewed.number) = '\(pick.value)' (\(label): "
                    + String(format: "%.2g", pick.share * 100) + "% of \(skewed.column), pg_stats)"
                // A value the server cannot plan (a type the statistics print differently) is left out.
                guard (try? session.plan(variant, with: [])) != nil else { continue }
                variants.append(variant)
            }
            guard !variants.isEmpty else { continue }
            let share = 1 / Double(variants.count + 1)
            out[statement.id].share = share
            for var variant in variants {
                variant.share = share
                out.append(variant)
            }
            costed += 1
            trace("skewed \(statement.query.fingerprint): \(variants.compactMap(\.customPlan))")
        }
        if costed > 0 {
            let qualstats = !(try connection.query("SELECT 1 FROM pg_extension WHERE extname = 'pg_qualstats'").isEmpty)
            notes.append("\(costed) statement\(costed == 1 ? "" : "s") with a parameter on a skewed column "
                         + "\(costed == 1 ? "was" : "were") also costed under custom plans for a frequent and a rare value from "
                         + "pg_stats, each weighing a third of its calls, since which values the application passes is unknown. "
                         + (qualstats ? "pg_qualstats is installed, but its constants are not read yet."
                            : "pg_qualstats (not installed here) records the constants queries really use and how selective "
                              + "each was: it would let these plans be weighted by real use."))
        }
        return out
    }

    /// The first `column = $n` of the statement whose column is skewed, with its frequent and rare values.
    func skewedParameter(in statement: CostedStatement) -> SkewedParameter? {
        for block in statement.shape.blocks {
            for p in block.predicates where p.comparison == .equal {
                guard case .parameter(let n) = p.value else { continue }
                let relation = p.column.relation ?? p.column.qualifier.flatMap { block.relation(named: $0) }
                    ?? (block.relations.count == 1 ? block.relations.first : nil)
                guard let relation, let table = catalog.table(relation.name), let stats = table.column(p.column.name)?.stats,
                      let (frequent, rare) = Self.frequentAndRare(stats, rows: table.rowEstimate ?? 0) else { continue }
                return SkewedParameter(number: n, column: p.column.name, frequent: frequent, rare: rare)
            }
        }
        return nil
    }

    /// The most common value and a rare one (a histogram value, which is less common than every
    /// most-common value, else the least common of those), when the first is `skewRatio` times as
    /// frequent as the second.
    static func frequentAndRare(_ stats: ColumnStats, rows: Double) -> (frequent: (value: String, share: Double),
                                                                         rare: (value: String, share: Double))? {
        let mcv = Array(zip(stats.mostCommonValues, stats.mostCommonFrequencies))
        guard let top = mcv.max(by: { $0.1 < $1.1 }) else { return nil }
        let otherShare = 1 - stats.nullFraction - mcv.reduce(0) { $0 + $1.1 }
        let otherDistinct = stats.distinctValues(rows: rows) - Double(mcv.count)
        let rare: (String, Double)
        if !stats.histogramBounds.isEmpty, otherShare > 0, otherDistinct >= 1 {
            rare = (stats.histogramBounds[stats.histogramBounds.count / 2], otherShare / otherDistinct)
        } else if let least = mcv.min(by: { $0.1 < $1.1 }), mcv.count > 1 {
            rare = least
        } else {
            return nil
        }
        guard top.1 >= skewRatio * rare.1 else { return nil }
        return ((top.0, top.1), (rare.0, rare.1))
    }
}
