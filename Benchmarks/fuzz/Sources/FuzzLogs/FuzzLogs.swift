import FuzzDriver
import Foundation
import PGAdviseSources

/// One input = one control byte + a log file. The control byte picks the format (detected, or one
/// forced as `--log-format` would), the block size (down to one byte, so every record, quoted CSV
/// field and JSON line gets cut across blocks), whether the first line is a user-given
/// log_line_prefix, and one or two workers. The whole path of `pgadvise logs` runs: LogInput,
/// detection, the readers with their per-line fallback, the workers, and the report (fingerprints).
private let blockSizes = [1, 3, 17, 128, 1000, 4096, 65536, 16 << 20]
private let path = NSTemporaryDirectory() + "pgadvise-fuzz-logs-\(getpid()).log"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    var body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var options = LogAnalysisOptions()
    let formatChoice = Int(control & 7)
    options.format = formatChoice == 0 ? nil : LogFormat.allCases[(formatChoice - 1) % LogFormat.allCases.count]
    options.blockSize = blockSizes[Int((control >> 3) & 7)]
    options.jobs = control & 0x80 == 0 ? 1 : 2
    if control & 0x40 != 0, let newline = body.firstIndex(of: 0x0A) {
        options.prefix = String(decoding: body[..<newline], as: UTF8.self)
        body.removeSubrange(...newline)
    }
    // Compressed input goes through an external gzip/xz/... process: not the parsers under test.
    if LogFuzzing.looksCompressed(body) { return 0 }
    guard FileManager.default.createFile(atPath: path, contents: Data(body)) else { fatalError("cannot write \(path)") }
    let analyzer = LogAnalyzer(options: options)
    do {
        try analyzer.add(path: path)
        _ = try analyzer.report()
    } catch {
        // A clean error is a correct answer to junk.
    }
    return 0
}

enum LogFuzzing {
    static func looksCompressed(_ head: [UInt8]) -> Bool {
        let magics: [[UInt8]] = [[0x1F, 0x8B], [0x42, 0x5A, 0x68], [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], [0x28, 0xB5, 0x2F, 0xFD]]
        return magics.contains { head.starts(with: $0) }
    }
}

/// The program's entry: SwiftPM aliases `main` to `FuzzLogs_main` (see FuzzDriver.h).
@_cdecl("FuzzLogs_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
