public import UCAN

/// An envelope's UCAN 1.0 grants: each command its app's agents may be delegated, with the policy that every
/// invocation's arguments must then satisfy, as `{"/email/send": [["like", ".to", "*@example.com"]]}`.
public struct CommandGrants: Sendable, Hashable {
    /// No grant: an envelope of 0.10 capabilities only.
    public static let none = CommandGrants([:])

    /// Each granted command and its policy.
    public let policies: [Command: Policy]

    public init(_ policies: [Command: Policy]) { self.policies = policies }

    public var isEmpty: Bool { policies.isEmpty }

    /// Reads grants from a request: an object of command → policy (DAG-JSON, a list of statements).
    /// - Throws: ``CharterError`` `validation_failed` naming the grant at fault, such as
    ///   `commands./email/send[0]` for a malformed statement.
    public init(json: JSONValue, field: String = "commands") throws(CharterError) {
        guard case .object(let members) = json else {
            throw CharterError.invalid(field, "must be an object of command → policy")
        }
        var policies: [Command: Policy] = [:]
        for (path, policy) in members {
            let command: Command
            do {
                command = try Command(path, field: "\(field).\(path)")
            } catch {
                throw CharterError.invalid(error.field ?? field, error.message)
            }
            guard !command.isReserved else {
                throw CharterError.invalid("\(field).\(path)", "the /ucan commands are reserved")
            }
            policies[command] = try Self.policy(policy, field: "\(field).\(path)")
        }
        self.init(policies)
    }

    /// Reads a policy from a request: a list of statements, in DAG-JSON.
    /// - Throws: ``CharterError`` `validation_failed` naming the statement at fault.
    public static func policy(_ json: JSONValue, field: String) throws(CharterError) -> Policy {
        do {
            return try Policy(try DAGJSON.decode(json.serialized()), field: field)
        } catch {
            throw CharterError.invalid(error.field ?? field, error.message)
        }
    }

    /// The grant that covers `command`: of the granted commands that prove it, the most specific.
    public func grant(covering command: Command) -> (command: Command, policy: Policy)? {
        policies.filter { $0.key.proves(command) }.max { $0.key.path.count < $1.key.path.count }
            .map { ($0.key, $0.value) }
    }

    /// The grants as IPLD: a map of command → policy, as stored.
    public var ipld: IPLD { .map(Dictionary(uniqueKeysWithValues: policies.map { ($0.key.path, $0.value.ipld) })) }

    /// Reads grants stored as ``ipld``.
    /// - Throws: ``UCANError`` when the value is not such a map.
    public init(ipld: IPLD) throws(UCANError) {
        guard case .map(let members) = ipld else { throw UCANError(.malformed, "grants are a map") }
        var policies: [Command: Policy] = [:]
        for (path, policy) in members { policies[try Command(path)] = try Policy(policy) }
        self.init(policies)
    }

    /// The grants as JSON, as the API shows them.
    public var json: JSONValue { Self.json(ipld) }

    /// An IPLD value as JSON: its DAG-JSON, which is JSON.
    static func json(_ value: IPLD) -> JSONValue {
        // Charter's own IPLD always encodes to JSON that parses back; deep policies need more than the default depth.
        (try? JSONParser.parse(DAGJSON.encode(value), maxDepth: 128)) ?? .null
    }
}
