import Foundation
import UCAN

/// Writes a JSON object straight to bytes, one member at a time, in the order the caller gives.
///
/// Response bodies on hot routes are written this way instead of building a ``JSONValue`` dictionary
/// and sorting its keys: callers list members in byte order of their names (checked in debug builds),
/// so the output is the same compact, key-sorted form the canonical serializer produces.
struct JSONObjectWriter {
    private(set) var bytes: [UInt8]
    private var count = 0
    #if DEBUG
        private var lastName = ""
    #endif

    private init(appendingTo bytes: consuming [UInt8]) {
        self.bytes = bytes
        self.bytes.append(UInt8(ascii: "{"))
    }

    /// Writes an object and returns its bytes.
    static func write(capacity: Int = 1024, _ members: (inout JSONObjectWriter) -> Void) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity)
        var writer = JSONObjectWriter(appendingTo: bytes)
        members(&writer)
        writer.bytes.append(UInt8(ascii: "}"))
        return writer.bytes
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        member(name)
        Self.string(value, into: &bytes)
    }

    mutating func integer(_ name: StaticString, _ value: Int64?) {
        member(name)
        Self.integer(value, into: &bytes)
    }

    mutating func time(_ name: StaticString, _ value: Date?) {
        member(name)
        Self.time(value, into: &bytes)
    }

    /// A member whose value `write` writes, with one of the value writers below.
    mutating func member(_ name: StaticString, _ write: (inout [UInt8]) -> Void) {
        member(name)
        write(&bytes)
    }

    /// Writes `name` and leaves its value out: returns where the value goes, for a ``JSONTemplate``.
    mutating func hole(_ name: StaticString) -> Int {
        member(name)
        return bytes.count
    }

    mutating func strings(_ name: StaticString, _ values: some Sequence<String>) {
        member(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONValue.writeString(value, into: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func value(_ name: StaticString, _ value: JSONValue) {
        member(name)
        value.write(into: &bytes)
    }

    mutating func object(_ name: StaticString, _ members: (inout JSONObjectWriter) -> Void) {
        member(name)
        writeObject(members)
    }

    mutating func objects<Element>(
        _ name: StaticString, _ elements: some Sequence<Element>,
        _ members: (Element, inout JSONObjectWriter) -> Void
    ) {
        member(name)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            writeObject { members(element, &$0) }
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func writeObject(_ members: (inout JSONObjectWriter) -> Void) {
        var taken: [UInt8] = []
        swap(&taken, &bytes)
        var nested = JSONObjectWriter(appendingTo: taken)
        members(&nested)
        swap(&nested.bytes, &bytes)
        bytes.append(UInt8(ascii: "}"))
    }

    // MARK: Values

    static func string(_ value: String?, into bytes: inout [UInt8]) {
        if let value { JSONValue.writeString(value, into: &bytes) } else { null(into: &bytes) }
    }

    static func integer(_ value: Int64?, into bytes: inout [UInt8]) {
        if let value { bytes.append(contentsOf: String(value).utf8) } else { null(into: &bytes) }
    }

    static func time(_ value: Date?, into bytes: inout [UInt8]) {
        guard let value else { return null(into: &bytes) }
        bytes.append(UInt8(ascii: "\""))
        Timestamp.write(value, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    private static func null(into bytes: inout [UInt8]) {
        bytes.append(contentsOf: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")])
    }

    private mutating func member(_ name: StaticString) {
        #if DEBUG
            let text = name.description
            assert(count == 0 || Array(lastName.utf8).lexicographicallyPrecedes(text.utf8), "\(text) out of order")
            lastName = text
        #endif
        if count > 0 { bytes.append(UInt8(ascii: ",")) }
        count += 1
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }
}

/// A JSON document written once, with holes where a few values change from one response to the next.
///
/// `GET /v1/me` answers every call of a key with the same record but for its usage and status; the server keeps
/// that record as a template on the key's cached ``Identity`` and fills in three values per request.
final class JSONTemplate: Sendable {
    private let bytes: [UInt8]
    private let holes: [Int]

    /// Writes the document; `members` appends each offset ``JSONObjectWriter/hole(_:)`` returns, in order.
    init(_ members: (inout JSONObjectWriter, inout [Int]) -> Void) {
        var holes: [Int] = []
        bytes = JSONObjectWriter.write { members(&$0, &holes) }
        self.holes = holes
    }

    /// The document with the value of each hole, by its index, written by `value`.
    func filled(_ value: (Int, inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64 * holes.count)
        var start = 0
        for (index, hole) in holes.enumerated() {
            out.append(contentsOf: bytes[start..<hole])
            value(index, &out)
            start = hole
        }
        out.append(contentsOf: bytes[start...])
        return out
    }
}
