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
/// common one) or else the least common one. When the values the application passes were seen
/// (pg_qualstats, a log's bind values: `QueryStats.observedValues`), those are costed instead, each
/// weighing its share of the executions. When they are unknown, the generic plan and the two custom
/// plans share the statement's calls equally: the worst case weighs as a risk without being taken
/// for the only case.
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

    /// The statements plus, for each one with an equality parameter on a skewed column, its custom
    /// plans (ids continue after the last statement); notes for the reader; the observed values used.
    /// Values seen in use (pg_qualstats, a log's bind values) each get a custom plan weighing their
    /// share of the executions, and the statement's own plan keeps the share of the values not
    /// costed apart. Without them, a frequent and a rare value from pg_stats and the generic plan
    /// share the calls equally.
    func withSkewedValuePlans(_ statements: [CostedStatement], session: WhatIfSession, notes: inout [String],
                              observed used: inout [StatementObservedValues]) throws -> [CostedStatement] {
        var out = statements
        var guessed = 0
        for statement in statements where statement.parameterCount > 0 {
            guard let (parameter, picks, observed) = valuePicks(for: statement) else { continue }
            var variants: [CostedStatement] = []
            for pick in picks {
                guard let values = valuesWith(pick.value, for: parameter.number, in: statement) else { continue }
                var variant = statement
                variant.id = out.count + variants.count
                variant.mode = .boundValues(values.map { Optional($0) })
                variant.share = pick.share
                variant.customPlan = "$\(parameter.number) = '\(pick.value)' (\(pick.label))"
                // A value the server cannot plan (a type the statistics print differently) is left out.
                guard (try? session.plan(variant, with: [])) != nil else { continue }
                variants.append(variant)
            }
            guard !variants.isEmpty else { continue }
            // The statement's own plan stands for the calls no custom plan stands for.
            out[statement.id].share = max(0, 1 - variants.reduce(0) { $0 + $1.share })
            out += variants
            if let observed {
                used.append(StatementObservedValues(fingerprint: statement.query.fingerprint, text: statement.displayText, values: observed))
                notes.append(Self.observedValuesNote(statement.query.fingerprint, observed))
            } else {
                guessed += 1
            }
            trace("skewed \(statement.query.fingerprint): \(variants.compactMap(\.customPlan))")
        }
        if guessed > 0 {
            let qualstats = try qualstatsInstalled()
            notes.append("\(guessed) statement\(guessed == 1 ? "" : "s") with a parameter on a skewed column "
                         + "\(guessed == 1 ? "was" : "were") also costed under custom plans for a frequent and a rare value from "
                         + "pg_stats, each weighing a third of its calls, since which values the application passes is unknown. "
                         + (qualstats ? "pg_qualstats is installed but recorded no constant for "
                                        + "\(guessed == 1 ? "it" : "them") (its sample_rate may skip them, or they ran before it was loaded)."
                            : "pg_qualstats (not installed here) records the constants queries really use and how selective "
                              + "each was: it would let these plans be weighted by real use."))
        }
        return out
    }

    typealias ValuePick = (value: String, share: Double, label: String)

    /// The skewed parameter a statement is costed apart for, the values and the share of the calls
    /// each stands for, and the observed values they come from (nil: the pg_stats guess). Observed
    /// values are used for any skewed parameter that has them; the pg_stats guess only for a generic
    /// plan (a logged sample's own values already are a real call's).
    private func valuePicks(for statement: CostedStatement) -> (SkewedParameter, [ValuePick], ObservedParameterValues?)? {
        let skewed = skewedParameters(in: statement)
        if let (parameter, values) = skewed.lazy.compactMap({ p in self.observed(p, in: statement).map { (p, $0) } }).first {
            let total = values.totalExecutions
            let picks = values.values.map { v -> ValuePick in
                let share = Double(v.executions) / Double(max(1, total))
                return (v.value, share, Self.percent(share) + " of executions (\(v.executions) of \(total)), from \(values.source.label)")
            }
            return (parameter, picks, values)
        }
        guard statement.mode == .generic, let first = skewed.first else { return nil }
        let third = 1.0 / 3
        return (first, [
            (first.frequent.value, third, "frequent: " + String(format: "%.2g", first.frequent.share * 100) + "% of \(first.column), pg_stats"),
            (first.rare.value, third, "rare: " + String(format: "%.2g", first.rare.share * 100) + "% of \(first.column), pg_stats"),
        ], nil)
    }

    static func percent(_ share: Double) -> String { String(format: "%.3g", share * 100) + "%" }

    /// The report's line on the observed values a statement was costed with, and their weights.
    static func observedValuesNote(_ fingerprint: String, _ observed: ObservedParameterValues) -> String {
        let total = Double(max(1, observed.totalExecutions))
        return "Statement \(fingerprint) was costed under custom plans for the values of $\(observed.parameter)"
            + (observed.column.map { " (\($0))" } ?? "") + " from \(observed.source.label), each weighing its share of the "
            + "executions: " + observed.values.map { "'\($0.value)' " + percent(Double($0.executions) / total) }.joined(separator: ", ")
            + (observed.otherExecutions > 0 ? ", other values \(observed.otherExecutions) executions (generic plan)" : "") + "."
    }

    /// The values observed for a skewed parameter: by its number, else (pg_qualstats matched by
    /// column) by its column.
    private func observed(_ parameter: SkewedParameter, in statement: CostedStatement) -> ObservedParameterValues? {
        statement.query.observedValues?.first { $0.parameter == parameter.number && !$0.values.isEmpty }
    }

    /// Every parameter's value for a custom plan with `value` as `$number`: the statement's own bound
    /// values when it has them, else representative ones.
    private func valuesWith(_ value: String, for number: Int, in statement: CostedStatement) -> [String]? {
        if case .boundValues(let bound) = statement.mode, number <= bound.count {
            var values = bound.map { $0 ?? "" }
            values[number - 1] = value
            return values
        }
        return representativeValues(for: statement, catalog: catalog, known: [number: value])
    }

    /// Each `column = $n` of the statement whose column is skewed, with its frequent and rare values.
    func skewedParameters(in statement: CostedStatement) -> [SkewedParameter] {
        var out: [SkewedParameter] = []
        for block in statement.shape.blocks {
            for p in block.predicates where p.comparison == .equal {
                guard case .parameter(let n) = p.value else { continue }
                let relation = p.column.relation ?? p.column.qualifier.flatMap { block.relation(named: $0) }
                    ?? (block.relations.count == 1 ? block.relations.first : nil)
                guard let relation, let table = catalog.table(relation.name), let stats = table.column(p.column.name)?.stats,
                      let (frequent, rare) = Self.frequentAndRare(stats, rows: table.rowEstimate ?? 0) else { continue }
                out.append(SkewedParameter(number: n, column: p.column.name, frequent: frequent, rare: rare))
            }
        }
        return out
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
