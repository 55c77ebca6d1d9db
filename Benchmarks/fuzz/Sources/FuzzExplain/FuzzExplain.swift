import FuzzDriver
import PGAdviseCore
import PGAdviseRules
import PGAdviseSources

/// Reads the input as EXPLAIN output (text or JSON, raw, psql- or pgAdmin-wrapped, from a log) the way
/// `pgadvise explain` does, then analyses every plan that parses and runs every plan rule on it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let plans = try? ExplainParser.parseAll(text) else { return 0 }
    for plan in plans {
        let analysis = AnalyzedPlan(plan)
        _ = PlanRuleEngine.check(analysis)
    }
    return 0
}

/// The program's entry: SwiftPM aliases `main` to `FuzzExplain_main` (see FuzzDriver.h).
@_cdecl("FuzzExplain_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
