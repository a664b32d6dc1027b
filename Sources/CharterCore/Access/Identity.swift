public import Foundation
import Synchronization
public import UCAN

/// The authenticated caller of a request: its key and organization.
///
/// A value with one shared, immutable copy behind it: the authenticator caches identities and every
/// request of a key gets the same one, so passing it around costs one reference count, not one per field
/// of the key. (Those counts, made from both cores on the same objects, were the largest single item in
/// what `GET /v1/me` cost beyond a bare route in a loopback profile.)
public struct Identity: Sendable, Hashable {
    @usableFromInline
    final class Storage: Sendable {
        @usableFromInline let key: APIKey
        @usableFromInline let organization: Organization
        @usableFromInline let usage: UsageTracker.Counter
        let memo = AtomicLazyReference<any AnyObject & Sendable>()

        init(key: APIKey, organization: Organization, usage: UsageTracker.Counter) {
            self.key = key
            self.organization = organization
            self.usage = usage
        }
    }

    @usableFromInline let storage: Storage

    @inlinable public var key: APIKey { storage.key }
    @inlinable public var organization: Organization { storage.organization }
    /// The key's calls counted since usage was last stored.
    @inlinable public var usage: UsageTracker.Counter { storage.usage }

    public init(key: APIKey, organization: Organization, usage: UsageTracker.Counter) {
        storage = Storage(key: key, organization: organization, usage: usage)
    }

    /// What `make` derives from this identity alone, made on first use and then shared by every request the
    /// cached identity serves (the server keeps the unchanging part of the caller's JSON record here). A
    /// program should memoize one type of value: a second type is never cached, only made on every call.
    public func memoized<Value: AnyObject & Sendable>(_ make: (Identity) -> Value) -> Value {
        if let value = storage.memo.load() as? Value { return value }
        let made = make(self)
        return storage.memo.storeIfNil(made) as? Value ?? made
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.storage === rhs.storage || (lhs.key == rhs.key && lhs.organization == rhs.organization)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(organization)
    }

    /// Whether the key holds `permission`.
    public func has(_ permission: Permission) -> Bool { key.permissions.contains(permission) }

    /// Throws `permission_denied` naming the permission `action` demands, unless the key holds it.
    public func authorize(_ action: Action) throws(CharterError) {
        guard let permission = action.permission, !has(permission) else { return }
        throw .denied(permission)
    }

    /// Whether the key's management reaches `environment`: a `live` key's reaches both, a `test` key's only
    /// `test`, as if each environment were its own instance.
    public func reaches(_ environment: Environment) -> Bool {
        key.environment == .live || environment == key.environment
    }

    /// Throws `permission_denied` for an action on an environment the key does not reach (what it cannot see,
    /// such as another environment's apps, is `not_found` instead).
    public func requireReach(_ environment: Environment) throws(CharterError) {
        guard reaches(environment) else {
            throw CharterError(.permissionDenied, "a test key manages only the test environment")
        }
    }
}

/// Where a request came from, for audit records.
public struct CallContext: Sendable, Hashable {
    public let ip: IPAddress?
    public let requestID: String

    public init(ip: IPAddress?, requestID: String) {
        self.ip = ip
        self.requestID = requestID
    }
}

extension AuditEvent {
    /// An event by `caller`, stamped with the request's IP and id.
    public init(
        _ action: String, by caller: Identity, at time: Date, context: CallContext, target: String? = nil,
        environment: Environment? = nil, outcome: Outcome = .success, reason: String? = nil, details: JSONObject = [:]
    ) {
        self.init(
            time: time, orgID: caller.organization.id, environment: environment ?? caller.key.environment,
            keyID: caller.key.id, action: action, target: target, outcome: outcome, reason: reason,
            ip: context.ip?.description, requestID: context.requestID, details: details)
    }
}
