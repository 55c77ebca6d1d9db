// swift-tools-version:6.0
import PackageDescription

// Language mode 5: the code is written for data-race safety (value types, explicit sharing),
// but strict-concurrency diagnostics on C pointers from libpq/libpg_query add noise without catching
// real races there; every concurrent path (parallel log parsing) is covered by tests instead.
let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "pgadvise",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pgadvise", targets: ["pgadvise"]),
        // The parsing layers as libraries, so that Benchmarks/fuzz (a separate package, built only with
        // -sanitize=fuzzer) can link them without the main build ever building the fuzz targets.
        .library(name: "PGAdviseCore", targets: ["PGAdviseCore"]),
        .library(name: "PGAdviseSQL", targets: ["PGAdviseSQL"]),
        .library(name: "PGAdviseSources", targets: ["PGAdviseSources"]),
        .library(name: "PGAdviseRules", targets: ["PGAdviseRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CPgQuery", providers: [.apt(["libpg-query-dev"])]),
        .target(name: "PGAdviseCore", swiftSettings: swift5),
        .target(name: "PGAdviseSQL", dependencies: ["PGAdviseCore", "CPgQuery"], swiftSettings: swift5),
        .target(name: "PGAdviseSources", dependencies: ["PGAdviseCore", "PGAdviseSQL", "CLibPQ"], swiftSettings: swift5),
        .target(name: "PGAdviseRules", dependencies: ["PGAdviseCore", "PGAdviseSQL"], swiftSettings: swift5),
        .target(name: "PGAdviseAdvisor", dependencies: ["PGAdviseCore", "PGAdviseSQL", "PGAdviseSources", "PGAdviseRules"], swiftSettings: swift5),
        .target(name: "PGAdviseReport", dependencies: ["PGAdviseCore"], swiftSettings: swift5),
        // The only importer of GRDB: the history store behind `snapshot` and `report`.
        .target(name: "PGAdviseStore", dependencies: ["PGAdviseCore", .product(name: "GRDB", package: "GRDB.swift")], swiftSettings: swift5),
        // Each command's pipeline (collect, judge, assemble a report value), callable and testable without the binary.
        .target(name: "PGAdviseKit", dependencies: [
            "PGAdviseCore", "PGAdviseSQL", "PGAdviseSources", "PGAdviseRules", "PGAdviseAdvisor", "PGAdviseReport", "PGAdviseStore",
        ], swiftSettings: swift5),
        .executableTarget(name: "pgadvise", dependencies: [
            "PGAdviseKit", "PGAdviseCore", "PGAdviseSQL", "PGAdviseSources", "PGAdviseRules", "PGAdviseAdvisor", "PGAdviseReport", "PGAdviseStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swift5),
        .testTarget(name: "PGAdviseCoreTests", dependencies: ["PGAdviseCore"], swiftSettings: swift5),
        .testTarget(name: "PGAdviseSQLTests", dependencies: ["PGAdviseSQL"], swiftSettings: swift5),
        .testTarget(name: "PGAdviseSourcesTests", dependencies: ["PGAdviseSources", "PGAdviseTestSupport"], swiftSettings: swift5),
        .testTarget(name: "PGAdviseRulesTests", dependencies: ["PGAdviseRules", "PGAdviseSQL", "PGAdviseSources"], swiftSettings: swift5),
        .testTarget(name: "PGAdviseAdvisorTests", dependencies: ["PGAdviseAdvisor", "PGAdviseReport", "PGAdviseTestSupport"], swiftSettings: swift5),
        .testTarget(name: "PGAdviseReportTests", dependencies: ["PGAdviseReport"], swiftSettings: swift5),
        .testTarget(name: "PGAdviseStoreTests", dependencies: ["PGAdviseStore", "PGAdviseReport", "PGAdviseTestSupport"], swiftSettings: swift5),
        .testTarget(name: "PGAdviseKitTests", dependencies: ["PGAdviseKit", "PGAdviseTestSupport"], swiftSettings: swift5),
        .testTarget(name: "pgadviseTests", dependencies: ["PGAdviseTestSupport"], swiftSettings: swift5),
        .target(name: "PGAdviseTestSupport", dependencies: ["PGAdviseCore", "PGAdviseSources"], path: "Tests/PGAdviseTestSupport", swiftSettings: swift5),
    ]
)
