import FuzzDriver
import Foundation
import PGAdviseSources

/// One input = one control byte + a log file. The control byte picks the format (detected, or one
/// forced as `--log-format` would), the block size (down to one byte, so every record, quoted CSV
/// field and JSON line gets cut across blocks), whether the first line is a user-given
/// log_line_prefix, and one or two workers. The whole path of `pgadvise logs` runs: LogInput,
/// detection, the readers with their per-line fallback, the workers, and the report (fingerprints).
/// `Int.max` stands for the product's default block, larger than any input: the whole input in one read.
private let blockSizes = [1, 3, 17, 128, 1000, 4096, 65536, Int.max]
/// Each block costs a read, a hand-off to the prefetching thread and a cut search, so 1-byte blocks made
/// an 8 kB input 8,000 rounds (tens of ms). Inputs up to this many blocks keep the chosen size, so every
/// cut position is still reached (on short inputs, which the fuzzer keeps growing from); longer ones get
/// blocks just large enough for this many.
private let mostBlocks = 64
/// In memory when the system has a tmpfs at /dev/shm: truncating and rewriting a file on disk per
/// execution costs more than reading it.
private let path = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory())
    + "pgadvise-fuzz-logs-\(getpid()).log"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    var body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var options = LogAnalysisOptions()
    let formatChoice = Int(control & 7)
    options.format = formatChoice == 0 ? nil : LogFormat.allCases[(formatChoice - 1) % LogFormat.allCases.count]
    options.jobs = control & 0x80 == 0 ? 1 : 2
    if control & 0x40 != 0, let newline = body.firstIndex(of: 0x0A) {
        options.prefix = String(decoding: body[..<newline], as: UTF8.self)
        body.removeSubrange(...newline)
    }
    // At least 1: the whole input (plus the end-of-file read) when the choice is the default block,
    // without allocating the default's 16 MB for a few kB.
    let chosen = blockSizes[Int((control >> 3) & 7)]
    options.blockSize = max(1, min(chosen, body.count + 1), (body.count + mostBlocks - 1) / mostBlocks)
    // Compressed input goes through an external gzip/xz/... process: not the parsers under test.
    if LogFuzzing.looksCompressed(body) { return 0 }
    LogFuzzing.write(body, to: path)
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
    /// The input as the file the analyzer reads. Plain write(2): FileManager.createFile writes a
    /// temporary file, fsyncs and renames it, which was a tenth of each execution.
    static func write(_ body: [UInt8], to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("cannot write \(path)") }
        defer { close(fd) }
        var offset = 0
        while offset < body.count {
            let written = body.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { fatalError("cannot write \(path)") }
            offset += written
        }
    }

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
