// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for pgadvise's parsers. A separate package on purpose: an executable whose only
// entry is LLVMFuzzerTestOneInput links only with -sanitize=fuzzer, so the main package's
// `swift build --build-tests` must never see these targets. Build and run them with ./run.sh.
let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "pgadvise-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "pgadvise", path: "../..")],
    targets: [
        .target(name: "FuzzDriver"),
        // Every log format through LogAnalyzer: detection, per-line fallback, block cuts, the workers, the report.
        .executableTarget(name: "FuzzLogs", dependencies: [
            "FuzzDriver",
            .product(name: "PGAdviseSources", package: "pgadvise"),
        ], swiftSettings: swift5),
        // FastNormalizer against libpg_query: one pre-scan key must never hold two fingerprints.
        .executableTarget(name: "FuzzPreScan", dependencies: [
            "FuzzDriver",
            .product(name: "PGAdviseSQL", package: "pgadvise"),
        ], swiftSettings: swift5),
        // The flat JSON reader, walked in full.
        .executableTarget(name: "FuzzJSON", dependencies: [
            "FuzzDriver",
            .product(name: "PGAdviseSQL", package: "pgadvise"),
        ], swiftSettings: swift5),
        // EXPLAIN text and JSON, then the plan analysis and every plan rule on what parses.
        .executableTarget(name: "FuzzExplain", dependencies: [
            "FuzzDriver",
            .product(name: "PGAdviseCore", package: "pgadvise"),
            .product(name: "PGAdviseSources", package: "pgadvise"),
            .product(name: "PGAdviseRules", package: "pgadvise"),
        ], swiftSettings: swift5),
    ]
)
