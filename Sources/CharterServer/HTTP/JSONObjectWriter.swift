import Foundation
import UCAN

/// Writes a JSON object straight to bytes, one member at a time, in canonical form: compact, members in byte
/// order of their names, as the canonical serializer writes them.
///
/// Response bodies on hot routes are written this way instead of building a ``JSONValue`` dictionary and
/// sorting its keys. Members given in order cost nothing more; an object whose members were not is put in
/// order when it closes, so no caller can get the order wrong.
struct JSONObjectWriter {
    private(set) var bytes: [UInt8]
    /// Where ``hole(_:)`` left values out, in the order it was called; kept right when members are reordered.
    private(set) var holes: [Int] = []
    /// This object's members so far: each name, and where its `"name":` starts in `bytes`.
    private var members: [(name: StaticString, start: Int)] = []
    private var inOrder = true

    private init(appendingTo bytes: consuming [UInt8], holes: consuming [Int]) {
        self.bytes = bytes
        self.holes = holes
        self.bytes.append(UInt8(ascii: "{"))
    }

    /// Writes an object and returns its bytes.
    static func write(capacity: Int = 1024, _ members: (inout JSONObjectWriter) -> Void) -> [UInt8] {
        written(capacity: capacity, members).bytes
    }

    /// Writes an object; the writer holds its bytes and its holes.
    static func written(capacity: Int = 1024, _ members: (inout JSONObjectWriter) -> Void) -> JSONObjectWriter {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity)
        var writer = JSONObjectWriter(appendingTo: bytes, holes: [])
        members(&writer)
        writer.close()
        return writer
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

    /// Writes `name` and leaves its value out, for a ``JSONTemplate`` to fill in: the writer's ``holes``.
    mutating func hole(_ name: StaticString) {
        member(name)
        holes.append(bytes.count)
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
        var nested = JSONObjectWriter(appendingTo: take(&bytes), holes: take(&holes))
        members(&nested)
        nested.close()
        bytes = take(&nested.bytes)
        holes = take(&nested.holes)
    }

    private func take<T>(_ array: inout [T]) -> [T] {
        var taken: [T] = []
        swap(&taken, &array)
        return taken
    }

    /// Ends the object, first putting its members in byte order of their names if they were not written so.
    private mutating func close() {
        if !inOrder { reorder() }
        bytes.append(UInt8(ascii: "}"))
    }

    /// Rewrites this object's members in name order, moving the holes inside them along.
    private mutating func reorder() {
        // A member runs from its name to the comma before the next one, or to the object's end.
        let ends = members.dropFirst().map { $0.start - 1 } + [bytes.count]
        let spans = zip(members, ends).map { member, end in (name: member.name, range: member.start..<end) }
        let sorted = spans.sorted { Self.precedes($0.name, $1.name) }
        var reordered = Array(bytes[..<members[0].start])
        var moved = holes
        for (position, span) in sorted.enumerated() {
            if position > 0 { reordered.append(UInt8(ascii: ",")) }
            let shift = reordered.count - span.range.lowerBound
            for (index, hole) in holes.enumerated() where span.range.contains(hole) || hole == span.range.upperBound {
                moved[index] = hole + shift
            }
            reordered.append(contentsOf: bytes[span.range])
        }
        bytes = reordered
        holes = moved
    }

    private static func precedes(_ first: StaticString, _ second: StaticString) -> Bool {
        first.withUTF8Buffer { a in second.withUTF8Buffer { b in a.lexicographicallyPrecedes(b) } }
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
        if let last = members.last {
            if inOrder, !Self.precedes(last.name, name) { inOrder = false }
            bytes.append(UInt8(ascii: ","))
        }
        members.append((name, bytes.count))
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
    /// Each hole's offset and its index (the order ``JSONObjectWriter/hole(_:)`` was called in), by offset.
    private let holes: [(offset: Int, index: Int)]

    /// Writes the document; each ``JSONObjectWriter/hole(_:)`` is numbered in the order it is called.
    init(_ members: (inout JSONObjectWriter) -> Void) {
        let writer = JSONObjectWriter.written(members)
        bytes = writer.bytes
        holes = writer.holes.enumerated().map { (offset: $0.element, index: $0.offset) }.sorted {
            $0.offset < $1.offset
        }
    }

    /// The document with the value of each hole, by its index, written by `value`.
    func filled(_ value: (Int, inout [UInt8]) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 64 * holes.count)
        var start = 0
        for hole in holes {
            out.append(contentsOf: bytes[start..<hole.offset])
            value(hole.index, &out)
            start = hole.offset
        }
        out.append(contentsOf: bytes[start...])
        return out
    }
}
