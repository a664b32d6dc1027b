public import Foundation
public import UCAN

/// The hash chain that makes the audit trail tamper-evident, one chain per organization.
public enum AuditChain {
    /// The `previousHash` of a chain's first record.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The hash of a record: SHA-256 over the previous hash and the record's canonical JSON.
    public static func hash(seq: Int64, event: AuditEvent, previous: [UInt8]) -> [UInt8] {
        hash(seq: seq, event: event, details: JSONValue.object(event.details).serialized(), previous: previous)
    }

    /// The hash of a record whose `details` are already serialized (as the store writes them), so a record's
    /// details are serialized once.
    public static func hash(seq: Int64, event: AuditEvent, details: [UInt8], previous: [UInt8]) -> [UInt8] {
        var bytes = previous
        bytes.reserveCapacity(previous.count + 320 + details.count)
        writeCanonicalJSON(seq: seq, event: event, details: details, into: &bytes)
        return SHA256.hash(bytes)
    }

    /// The record as canonical JSON (sorted keys, times in milliseconds); the export carries the same fields.
    public static func canonicalJSON(seq: Int64, event: AuditEvent) -> [UInt8] {
        var bytes: [UInt8] = []
        writeCanonicalJSON(seq: seq, event: event, details: JSONValue.object(event.details).serialized(), into: &bytes)
        return bytes
    }

    /// Writes exactly what `json(seq:event:).serialized()` would, without building the tree and sorting it: the
    /// members in the serializer's key order, `details` as given. A test holds the two to the same bytes.
    static func writeCanonicalJSON(seq: Int64, event: AuditEvent, details: [UInt8], into out: inout [UInt8]) {
        func member(_ name: StaticString, first: Bool = false) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        func text(_ value: String?) {
            if let value { JSONValue.writeString(value, into: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        member("action", first: true)
        text(event.action)
        member("details")
        out.append(contentsOf: details)
        member("environment")
        text(event.environment?.rawValue)
        member("ip")
        text(event.ip)
        member("key_id")
        text(event.keyID)
        member("org_id")
        text(event.orgID)
        member("outcome")
        text(event.outcome.rawValue)
        member("reason")
        text(event.reason)
        member("request_id")
        text(event.requestID)
        member("seq")
        JSONValue.integer(seq).write(into: &out)
        member("target")
        text(event.target)
        member("time_ms")
        JSONValue.integer(milliseconds(event.time)).write(into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The record as a JSON object.
    public static func json(seq: Int64, event: AuditEvent) -> JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        return .object([
            "seq": .integer(seq),
            "time_ms": .integer(milliseconds(event.time)),
            "org_id": text(event.orgID),
            "environment": text(event.environment?.rawValue),
            "key_id": text(event.keyID),
            "action": .string(event.action),
            "target": text(event.target),
            "outcome": .string(event.outcome.rawValue),
            "reason": text(event.reason),
            "ip": text(event.ip),
            "request_id": text(event.requestID),
            "details": .object(event.details),
        ])
    }

    /// Where a chain first fails to verify.
    public struct Break: Sendable, Hashable, CustomStringConvertible {
        public let seq: Int64
        public let reason: String
        public var description: String { "record \(seq): \(reason)" }
    }

    /// Checks records of one chain, in order, continuing from `previous`.
    /// - Returns: the first break, or nil with the last hash to continue from.
    public static func verify(_ records: [AuditRecord], after previous: [UInt8]) -> (Break?, [UInt8]) {
        var previous = previous
        for record in records {
            guard record.previousHash == previous else {
                return (Break(seq: record.seq, reason: "does not link to the record before it"), previous)
            }
            guard hash(seq: record.seq, event: record.event, previous: previous) == record.hash else {
                return (Break(seq: record.seq, reason: "its contents do not match its hash"), previous)
            }
            previous = record.hash
        }
        return (nil, previous)
    }

    /// Milliseconds since the epoch: the precision times are stored and hashed at.
    ///
    /// Rounding to the microsecond first absorbs the binary error of `Date(timeIntervalSince1970: ms / 1000)`,
    /// so a time built from whole milliseconds always maps back to the same number.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64(((date.timeIntervalSince1970 * 1_000_000).rounded() / 1000).rounded(.down))
    }
}
