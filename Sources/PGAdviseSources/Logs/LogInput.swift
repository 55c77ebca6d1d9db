import Foundation
import PGAdviseCore

/// A log file (or standard input) as a stream of bytes, decompressed on the fly.
///
/// Compressed input streams through the system's `gzip`/`bzip2`/`xz`/`zstd -dc` in a child process:
/// no library dependency to build or vendor, every format those tools know (including multi-member
/// gzip and concatenated zstd frames), and decompression runs on another core in parallel with parsing.
final class LogInput {
    let path: String
    private(set) var compression: String?
    private var fd: Int32 = -1
    private var process: Process?
    private var feeder: Thread?
    private(set) var bytesRead: Int64 = 0
    private var pending: [UInt8] = []
    private var stderrPipe: Pipe?

    init(path: String) throws {
        self.path = path
        if path == "-" {
            fd = 0
            // Peek at the first bytes to spot compression; they are replayed afterwards.
            var head = [UInt8](repeating: 0, count: 1 << 16)
            let n = head.withUnsafeMutableBytes { readFully(0, $0.baseAddress!, $0.count) }
            head.removeSubrange(max(0, n)...)
            if let tool = LogInput.compressionTool(head) {
                try startDecompressor(tool, arguments: ["-dc"], replay: head)
            } else {
                pending = head
            }
        } else {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw PGAdviseError(.input, "\(path): no such file")
            }
            guard !isDirectory.boolValue else { throw PGAdviseError(.input, "\(path) is a directory, not a log file") }
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw PGAdviseError(.input, "\(path): cannot open (\(String(cString: strerror(errno))))") }
            var head = [UInt8](repeating: 0, count: 8)
            let n = head.withUnsafeMutableBytes { readFully(fd, $0.baseAddress!, $0.count) }
            head.removeSubrange(max(0, n)...)
            if let tool = LogInput.compressionTool(head) {
                Foundation.close(fd)
                fd = -1
                try startDecompressor(tool, arguments: ["-dc", path], replay: nil)
            } else {
                lseek(fd, 0, SEEK_SET)
            }
        }
    }

    deinit {
        // Only a file we opened; a decompressor's pipe belongs to its FileHandle, and fd 0 to the process.
        if fd > 0, process == nil { Foundation.close(fd) }
        if let process, process.isRunning { process.terminate() }
    }

    static func compressionTool(_ head: [UInt8]) -> String? {
        if head.count >= 2, head[0] == 0x1F, head[1] == 0x8B { return "gzip" }
        if head.count >= 3, head[0] == 0x42, head[1] == 0x5A, head[2] == 0x68 { return "bzip2" }
        if head.count >= 6, head[0] == 0xFD, head[1] == 0x37, head[2] == 0x7A, head[3] == 0x58, head[4] == 0x5A, head[5] == 0x00 { return "xz" }
        if head.count >= 4, head[0] == 0x28, head[1] == 0xB5, head[2] == 0x2F, head[3] == 0xFD { return "zstd" }
        return nil
    }

    private func startDecompressor(_ tool: String, arguments: [String], replay: [UInt8]?) throws {
        compression = tool
        let candidates = ["/usr/bin/\(tool)", "/bin/\(tool)", "/usr/local/bin/\(tool)"]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PGAdviseError(.input, "\(displayName) is \(tool)-compressed but `\(tool)` is not installed (apt-get install \(tool))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        var input: Pipe?
        if replay != nil {
            input = Pipe()
            process.standardInput = input
        }
        do { try process.run() } catch {
            throw PGAdviseError(.input, "cannot start \(tool) for \(displayName): \(error.localizedDescription)")
        }
        self.process = process
        self.stderrPipe = errors
        fd = output.fileHandleForReading.fileDescriptor
        if let replay, let input {
            let writer = input.fileHandleForWriting
            let thread = Thread {
                var chunk = replay
                while !chunk.isEmpty {
                    chunk.withUnsafeBytes { raw in
                        var offset = 0
                        while offset < raw.count {
                            let w = write(writer.fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                            if w <= 0 { return }
                            offset += w
                        }
                    }
                    chunk = [UInt8](repeating: 0, count: 1 << 20)
                    let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress!, $0.count) }
                    chunk.removeSubrange(max(0, n)...)
                }
                try? writer.close()
            }
            feeder = thread
            thread.start()
        }
    }

    var displayName: String { path == "-" ? "standard input" : path }

    /// Appends up to `count` bytes to `buffer`; returns how many (0 at the end).
    func read(into buffer: inout [UInt8], count: Int) throws -> Int {
        var n = 0
        let chunk = try [UInt8](unsafeUninitializedCapacity: count) { raw, initialized in
            n = try read(into: raw)
            initialized = n
        }
        if buffer.isEmpty { buffer = chunk } else { buffer.append(contentsOf: chunk) }
        return n
    }

    /// Reads up to `block.count` bytes into `block`: a buffer the caller reuses from block to block, so
    /// that reading allocates nothing (a fresh 16 MB block each time made the peak memory of a run
    /// land on either of two values, as the C allocator moved its threshold for large blocks).
    func read(into block: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        if !pending.isEmpty {
            let n = min(block.count, pending.count)
            _ = UnsafeMutableBufferPointer(rebasing: block[0..<n]).initialize(from: pending[0..<n])
            pending.removeSubrange(0..<n)
            bytesRead += Int64(n)
            return n
        }
        let n = readFully(fd, UnsafeMutableRawPointer(block.baseAddress!), block.count)
        if n < 0 {
            throw PGAdviseError(.input, "\(displayName): read error (\(String(cString: strerror(errno))))")
        }
        bytesRead += Int64(n)
        return n
    }

    /// After the last read: a decompressor's complaint, if it had one (truncated or corrupt input).
    func finish() -> String? {
        guard let process else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus != 0 else { return nil }
        let message = stderrPipe.map { String(decoding: $0.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) } ?? ""
        let tool = compression ?? "decompressor"
        return "\(displayName): \(tool) stopped with status \(process.terminationStatus)"
            + (message.isEmpty ? "" : ": " + message.trimmingCharacters(in: .whitespacesAndNewlines))
            + " (the input may be truncated; what could be read was analysed)"
    }
}

private func readFully(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
    var total = 0
    while total < count {
        let n = read(fd, base + total, count - total)
        if n < 0 {
            if errno == EINTR { continue }
            return total > 0 ? total : -1
        }
        if n == 0 { break }
        total += n
    }
    return total
}
