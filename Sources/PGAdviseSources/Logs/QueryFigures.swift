import PGAdviseCore

/// What the report takes from every fingerprint's QueryStats, offered one fingerprint at a time as its
/// figures are freed: counts, the slowest statements and the queries a report shows. With a limit, only
/// those queries stay, so memory at the end of a log of many distinct statements holds the running
/// figures or the report, never a QueryStats per fingerprint on top of them.
struct QueryFigures {
    var tempStatements: [TempFileStatement] = []
    var lockStatements: [LockWaitStatement] = []
    var planInsights: [LogPlanInsights] = []
    /// The normalized text of the fingerprints that had N+1 bursts.
    var normalizedOf: [String: String] = [:]
    /// What `LogAnalysisOptions.queryFindings` found, fingerprint after fingerprint.
    var queryFindings: [Finding] = []
    private(set) var distinctQueries = 0
    private(set) var unparsedQueries = 0
    /// Set by `finish()`: the kept queries, heaviest first, and the slowest statements, slowest first.
    private(set) var queries: [QueryStats] = []
    private(set) var slowest: [QuerySample] = []

    private var heaviest: BoundedSelection<QueryStats>
    private var mostFrequent: BoundedSelection<QueryStats>?
    private var slowestRuns: BoundedSelection<QueryStats>

    /// `kept`: nil keeps every query; N keeps the N heaviest by total time and the N most called (the two
    /// query tables a rendered report shows).
    init(kept: Int?, slowestCount: Int) {
        heaviest = BoundedSelection(limit: kept, by: QueryStats.heavierFirst)
        mostFrequent = kept.map { BoundedSelection(limit: $0, by: QueryStats.moreFrequentFirst) }
        // Ties between equally slow runs go to the heavier query, as they did in the sorted list of all.
        slowestRuns = BoundedSelection(limit: slowestCount) { a, b in
            let (x, y) = (a.slowest?.durationMs ?? 0, b.slowest?.durationMs ?? 0)
            return x != y ? x > y : QueryStats.heavierFirst(a, b)
        }
    }

    mutating func add(_ query: QueryStats) {
        distinctQueries += 1
        if !query.parsed { unparsedQueries += 1 }
        heaviest.offer(query)
        mostFrequent?.offer(query)
        if query.slowest?.durationMs != nil { slowestRuns.offer(query) }
    }

    mutating func finish() {
        queries = heaviest.finished()
        if let frequent = mostFrequent?.finished() {
            let present = Set(queries.map(\.fingerprint))
            queries += frequent.filter { !present.contains($0.fingerprint) }
            queries.sort(by: QueryStats.heavierFirst)
        }
        slowest = slowestRuns.finished().compactMap(\.slowest)
    }
}

/// The first `limit` elements of a stream in a strict total order, in memory proportional to the limit
/// (nil: all of them): sorted and cut whenever it holds twice as many. Once it has been cut, an element
/// that does not precede the last one kept cannot be among the first and is turned away with one
/// comparison, so that a long stream is not copied and sorted over and over.
struct BoundedSelection<Element> {
    let limit: Int?
    let areInIncreasingOrder: (Element, Element) -> Bool
    private var kept: [Element] = []
    private var cutoff: Element?

    init(limit: Int?, by areInIncreasingOrder: @escaping (Element, Element) -> Bool) {
        self.limit = limit
        self.areInIncreasingOrder = areInIncreasingOrder
    }

    mutating func offer(_ element: Element) {
        guard let limit else { kept.append(element); return }
        guard limit > 0 else { return }
        if let cutoff, !areInIncreasingOrder(element, cutoff) { return }
        kept.append(element)
        if kept.count >= 2 * limit + 64 { cut(to: limit) }
    }

    mutating func finished() -> [Element] {
        cut(to: limit ?? kept.count)
        return kept
    }

    private mutating func cut(to count: Int) {
        kept.sort(by: areInIncreasingOrder)
        if kept.count > count { kept.removeLast(kept.count - count) }
        if kept.count == count { cutoff = kept.last }
    }
}
