public import Foundation
public import UCAN

/// Refusals of callers nobody could identify (no key, a malformed or unknown key, an address throttled for
/// guessing), folded into one audit record per client address per minute.
///
/// Such a refusal belongs to no organization, and anyone can send them, so a record each would let an
/// anonymous flood grow the trail by one row per request. Folded, the flood costs one row per address per
/// minute, and memory stays bounded: past ``addressLimit`` distinct addresses in a minute, the rest share one
/// record with no address. Refusals of a known key are not folded; they go to its organization's trail one
/// by one.
public struct DenialSummaries: Sendable {
    /// The action of a summary record.
    public static let action = "request.denied.summary"
    /// The length of a window in milliseconds: each summary covers one minute of the clock.
    public static let windowMilliseconds: Int64 = 60_000

    /// Distinct addresses counted per minute; refusals from further addresses share one record.
    public let addressLimit: Int

    private struct Tally: Sendable {
        var count = 0
        var reasons: [String: Int] = [:]
        var first: Int64
        var last: Int64

        init(at time: Int64) {
            first = time
            last = time
        }

        mutating func add(_ reason: String, at time: Int64) {
            count += 1
            reasons[reason, default: 0] += 1
            first = min(first, time)
            last = max(last, time)
        }
    }

    /// The start of the open window, in milliseconds since the epoch; nil when nothing is counted.
    private var windowStart: Int64?
    /// One tally per address; the address is "" when the connection had none.
    private var tallies: [String: Tally] = [:]
    /// Refusals from addresses beyond the limit.
    private var others: Tally?

    /// - Parameter addressLimit: distinct addresses tallied per minute before the rest are lumped together.
    public init(addressLimit: Int = 1_000) {
        self.addressLimit = max(1, addressLimit)
    }

    /// Addresses tallied in the open window, the shared record for further addresses included.
    public var openRecords: Int { tallies.count + (others == nil ? 0 : 1) }

    /// Counts one refusal.
    /// - Parameters:
    ///   - reason: the error code the caller was refused with.
    ///   - ip: the client address, when the connection has one.
    ///   - time: when it was refused.
    /// - Returns: the summaries of the previous window, when `time` falls in a later minute; they are closed.
    public mutating func add(reason: String, ip: String?, at time: Date) -> [AuditEvent] {
        let milliseconds = AuditChain.milliseconds(time)
        let start = Self.window(of: milliseconds)
        var closed: [AuditEvent] = []
        if let open = windowStart, start > open { closed = close() }
        // A clock stepped back counts into the open window rather than reopening one already written.
        if windowStart == nil { windowStart = start }
        let address = ip ?? ""
        if tallies[address] != nil || tallies.count < addressLimit {
            tallies[address, default: Tally(at: milliseconds)].add(reason, at: milliseconds)
        } else {
            others = others ?? Tally(at: milliseconds)
            others?.add(reason, at: milliseconds)
        }
        return closed
    }

    /// Closes the open window when it has ended by `now`, or whatever the time when `now` is nil (at shutdown).
    /// - Returns: one record per address of the closed window; empty while the window is still open.
    public mutating func close(endedBy now: Date?) -> [AuditEvent] {
        guard let open = windowStart else { return [] }
        if let now, Self.window(of: AuditChain.milliseconds(now)) <= open { return [] }
        return close()
    }

    private mutating func close() -> [AuditEvent] {
        guard let start = windowStart else { return [] }
        var events = tallies.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { address, tally in
            Self.record(tally, ip: address.isEmpty ? nil : address, windowStart: start, others: false)
        }
        if let others { events.append(Self.record(others, ip: nil, windowStart: start, others: true)) }
        windowStart = nil
        tallies = [:]
        others = nil
        return events
    }

    private static func window(of milliseconds: Int64) -> Int64 {
        let remainder = milliseconds % windowMilliseconds
        return milliseconds - (remainder < 0 ? remainder + windowMilliseconds : remainder)
    }

    private static func record(_ tally: Tally, ip: String?, windowStart: Int64, others: Bool) -> AuditEvent {
        // The commonest code names the record, so a query by reason finds it; the rest are in the details.
        let reason = tally.reasons.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key
        var details: JSONObject = [
            "count": .integer(Int64(tally.count)),
            "reasons": .object(tally.reasons.mapValues { .integer(Int64($0)) }),
            "first_ms": .integer(tally.first),
            "last_ms": .integer(tally.last),
            "window_start_ms": .integer(windowStart),
            "window_seconds": .integer(windowMilliseconds / 1000),
        ]
        if others { details["other_addresses"] = .bool(true) }
        return AuditEvent(
            time: Date(timeIntervalSince1970: Double(tally.last) / 1000), orgID: nil, keyID: nil, action: action,
            // Only a store outage leaves nothing to refuse: that is Charter's failure, as a single record says.
            outcome: reason == CharterError.Code.unavailable.rawValue ? .failure : .denied, reason: reason, ip: ip,
            details: details)
    }
}
