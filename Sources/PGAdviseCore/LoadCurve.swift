import Foundation

/// Reading a measured load curve: the knee, the Universal Scalability Law, the linear region.
public enum LoadCurve {
    /// Share of the peak throughput a level must reach to count as "as good as the peak". 5% is
    /// within the run-to-run noise of a short closed-loop step on a shared machine.
    public static let kneeShareOfPeak = 0.95

    /// The concurrency levels of a sweep: 1, 2, 4, ... and `maxClients` itself when it is no power of two.
    public static func levels(upTo maxClients: Int) -> [Int] {
        guard maxClients >= 1 else { return [] }
        var out: [Int] = []
        var n = 1
        while n <= maxClients { out.append(n); n *= 2 }
        if out.last != maxClients { out.append(maxClients) }
        return out
    }

    /// The smallest concurrency whose throughput is at least 95% of the peak and, with an SLO,
    /// whose p95 is within it. With an SLO no level meets, nil.
    public static func knee(_ levels: [LoadLevel], sloP95Ms: Double? = nil) -> Int? {
        let eligible = levels.filter { level in level.statements > 0 && (sloP95Ms.map { level.p95Ms <= $0 } ?? true) }
        guard let peak = eligible.map(\.tps).max(), peak > 0 else { return nil }
        return eligible.filter { $0.tps >= kneeShareOfPeak * peak }.map(\.clients).min()
    }

    /// The largest level whose throughput is still at least 80% of N times the one-client throughput:
    /// up to there every client had a core (or a disk) of its own.
    public static func linearScalingClients(_ levels: [LoadLevel]) -> Int? {
        guard let single = levels.first(where: { $0.clients == 1 }), single.tps > 0 else { return nil }
        return levels.filter { $0.tps >= 0.8 * Double($0.clients) * single.tps }.map(\.clients).max()
    }

    /// Least-squares fit of the USL with λ = X(1): N/(X(N)/λ) − 1 = σ(N−1) + κN(N−1), two
    /// parameters without intercept. Needs three levels; σ and κ are clamped at 0 (noise can make
    /// a short curve look superlinear).
    public static func fitScalability(_ levels: [LoadLevel]) -> ScalabilityFit? {
        guard let single = levels.first(where: { $0.clients == 1 }), single.tps > 0 else { return nil }
        let points = levels.filter { $0.clients > 1 && $0.tps > 0 }
        guard points.count >= 2 else { return nil }
        var saa = 0.0, sab = 0.0, sbb = 0.0, say = 0.0, sby = 0.0
        for p in points {
            let n = Double(p.clients)
            let y = n / (p.tps / single.tps) - 1
            let a = n - 1, b = n * (n - 1)
            saa += a * a; sab += a * b; sbb += b * b; say += a * y; sby += b * y
        }
        let det = saa * sbb - sab * sab
        guard abs(det) > 1e-12 else { return nil }
        var sigma = (say * sbb - sby * sab) / det
        var kappa = (saa * sby - sab * say) / det
        if sigma < 0 { sigma = 0; kappa = max(0, sby / sbb) }
        if kappa < 0 { kappa = 0; sigma = max(0, say / saa) }
        let optimum = kappa > 0 && sigma < 1 ? ((1 - sigma) / kappa).squareRoot() : nil
        return ScalabilityFit(lambda: single.tps, sigma: sigma, kappa: kappa, optimumClients: optimum)
    }
}

extension LoadLevel {
    /// A level's figures from its latency histogram and timed seconds.
    public static func from(_ histogram: LatencyHistogram, clients: Int, seconds: Double) -> LoadLevel {
        LoadLevel(clients: clients, tps: seconds > 0 ? Double(histogram.count) / seconds : 0,
                  p50Ms: histogram.percentile(0.5) ?? 0, p95Ms: histogram.percentile(0.95) ?? 0,
                  p99Ms: histogram.percentile(0.99) ?? 0, statements: histogram.count, seconds: seconds)
    }
}
