import FuzzDriver
import PGAdviseSQL

/// Parses the input as one JSON text and, when it parses, asks every question a caller can ask of
/// every value (kinds, counts, strings with escapes, numbers, member lookups by name, equality).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let root = try? JSONValue.parse(bytes: bytes) else { return 0 }
    // A name with invalid UTF-8 decodes lossily, so looking it up again by its String is only
    // promised to succeed on valid UTF-8.
    let namesRoundTrip = String(validating: bytes, as: UTF8.self) != nil
    // An explicit stack: the walk must not be the thing that overflows on deep nesting.
    var pending = [root]
    while let value = pending.popLast() {
        _ = value == value
        switch value.kind {
        case .null: break
        case .bool: _ = value.bool
        case .number: _ = (value.double, value.int)
        case .string: _ = value.string
        case .array:
            let elements = value.array ?? []
            if elements.count != value.count { fatalError("array of \(value.count) elements lists \(elements.count)") }
            _ = value.lastChild
            pending.append(contentsOf: elements)
        case .object:
            let pairs = value.objectPairs ?? []
            if pairs.count != value.count { fatalError("object of \(value.count) members lists \(pairs.count)") }
            for (name, member) in pairs {
                guard !namesRoundTrip || value.member(name) != nil else { fatalError("member \(name) listed but not found") }
                pending.append(member)
            }
            _ = value.nodeKey
            _ = value.node
            _ = value["Plan"]
            _ = value.lastChild
        }
        var children = value.children
        while children.next() != nil {}
    }
    return 0
}

/// The program's entry: SwiftPM aliases `main` to `FuzzJSON_main` (see FuzzDriver.h).
@_cdecl("FuzzJSON_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc, argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 }
}
