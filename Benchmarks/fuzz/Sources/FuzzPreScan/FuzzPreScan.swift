import FuzzDriver
import PGAdviseSQL

/// FastNormalizer's contract, checked against libpg_query: two statements with one pre-scan key must
/// have one fingerprint (the log reader fingerprints only the first statement of each key). From one
/// input it derives a pair of statements and traps when their keys agree but their fingerprints do not.
/// The first byte picks how the second statement is derived from the first:
/// 0: the rest of the input is two statements split at the first NUL byte;
/// 1: each literal the pre-scan found is replaced by another literal;
/// 2: the case of every ASCII letter outside those literals is flipped;
/// 3: whitespace is replaced by newlines, comments or several spaces.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let mode = data[0]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    var normalizer = FastNormalizer()
    let first: [UInt8], second: [UInt8]
    switch mode & 3 {
    case 0:
        guard let cut = input.firstIndex(of: 0) else { return 0 }
        first = Array(input[..<cut])
        second = Array(input[(cut + 1)...])
    case 1:
        first = input
        first.withUnsafeBufferPointer { _ = normalizer.normalize($0) }
        second = PreScanVariants.replacingLiterals(first, ranges: normalizer.literalRanges, choice: Int(mode >> 2))
    case 2:
        first = input
        first.withUnsafeBufferPointer { _ = normalizer.normalize($0) }
        second = PreScanVariants.flippingCase(first, outside: normalizer.literalRanges)
    default:
        first = input
        second = PreScanVariants.respacing(first, choice: Int(mode >> 2))
    }
    let firstKey = first.withUnsafeBufferPointer { _ = normalizer.normalize($0); return normalizer.key }
    let secondKey = second.withUnsafeBufferPointer { _ = normalizer.normalize($0); return normalizer.key }
    guard firstKey == secondKey else { return 0 }
    // The log path hands libpg_query the statement as a String made from the log's bytes, as here.
    let firstText = String(decoding: first, as: UTF8.self), secondText = String(decoding: second, as: UTF8.self)
    guard case .success(let a) = PgQuery.fingerprint(firstText), case .success(let b) = PgQuery.fingerprint(secondText) else { return 0 }
    if a != b {
        fatalError("one pre-scan key \(String(decoding: firstKey, as: UTF8.self).debugDescription), two fingerprints: "
                   + "\(firstText.debugDescription) -> \(a), \(secondText.debugDescription) -> \(b)")
    }
    return 0
}

enum PreScanVariants {
    static let literals: [[UInt8]] = ["0", "42", "-7", "1.5e3", ".5", "'x'", "''", "'it''s'", "$1", "$$a$$", "$q$b$q$", "E'\\n'", "B'101'", "X'1F'", "U&'d'", "1_000", "0x1F", "NULL", "true"].map { Array($0.utf8) }

    static func replacingLiterals(_ text: [UInt8], ranges: [Range<Int>], choice: Int) -> [UInt8] {
        var out = text
        // From the last range back, so earlier ranges keep their offsets.
        for (n, range) in ranges.enumerated().reversed() where range.upperBound <= out.count {
            out.replaceSubrange(range, with: literals[(choice + n * 7) % literals.count])
        }
        return out
    }

    static func flippingCase(_ text: [UInt8], outside ranges: [Range<Int>]) -> [UInt8] {
        var out = text
        for i in out.indices where !ranges.contains(where: { $0.contains(i) }) {
            let c = out[i]
            if (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) { out[i] = c ^ 0x20 }
        }
        return out
    }

    static let spacings: [[UInt8]] = ["\n", "  ", "\t", " /* c */ ", " -- c\n", "\r\n"].map { Array($0.utf8) }

    static func respacing(_ text: [UInt8], choice: Int) -> [UInt8] {
        let spacing = spacings[choice % spacings.count]
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 2)
        for c in text {
            if c == 0x20 { out.append(contentsOf: spacing) } else { out.append(c) }
        }
        return out
    }
}

/// The program's entry: SwiftPM aliases `main` to `FuzzPreScan_main` (see FuzzDriver.h).
@_cdecl("FuzzPreScan_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
