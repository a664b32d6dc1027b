/// A network in CIDR notation, IPv4 (`10.0.0.0/8`) or IPv6 (`2001:db8::/32`); a bare address is a /32 or /128.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// The network address.
    public let network: IPAddress
    /// How many leading bits must match.
    public let prefixLength: Int

    /// Parses CIDR text.
    /// - Throws: ``CharterError`` `validation_failed` naming `field` for a bad address, a prefix out of
    ///   range, or host bits set below the prefix (which usually means a typo).
    public init(_ text: String, field: String = "ip_allowlist") throws(CharterError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else {
            throw .invalid(field, "\(text.prefix(64)) is not an IPv4 or IPv6 address or network")
        }
        let bits = address.bytes.count * 8
        let length: Int
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ ("0"..."9").contains($0) }),
                parts[1] == "0" || parts[1].first != "0", let value = Int(parts[1]), (0...bits).contains(value)
            else {
                throw .invalid(field, "\(text.prefix(64)) has a prefix length outside 0...\(bits)")
            }
            length = value
        } else {
            length = bits
        }
        let masked = Self.mask(address.bytes, to: length)
        guard masked == address.bytes else {
            throw .invalid(
                field,
                "\(text.prefix(64)) has host bits set; the network is \(IPAddress(bytes: masked))/\(length)")
        }
        network = address
        prefixLength = length
    }

    /// Whether `address` lies in this network; IPv4 never matches an IPv6 network or the other way round.
    public func contains(_ address: IPAddress) -> Bool {
        address.bytes.count == network.bytes.count && Self.mask(address.bytes, to: prefixLength) == network.bytes
    }

    /// Whether every address of `other` lies in this network.
    public func contains(_ other: CIDR) -> Bool {
        prefixLength <= other.prefixLength && contains(other.network)
    }

    /// The canonical form, such as `10.0.0.0/8`.
    public var description: String { "\(network)/\(prefixLength)" }

    private static func mask(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let keep = min(max(length - index * 8, 0), 8)
            return keep == 8 ? byte : byte & ~(0xFF >> UInt8(keep))
        }
    }
}
