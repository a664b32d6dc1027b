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
        if let value { JSONValue.writeString(value, into: &bytes) } else { null() }
    }

    mutating func integer(_ name: StaticString, _ value: Int64?) {
        member(name)
        if let value { bytes.append(contentsOf: String(value).utf8) } else { null() }
    }

    mutating func time(_ name: StaticString, _ value: Date?) {
        member(name)
        if let value {
            bytes.append(UInt8(ascii: "\""))
            Timestamp.write(value, into: &bytes)
            bytes.append(UInt8(ascii: "\""))
        } else {
            null()
        }
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

    private mutating func null() {
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
