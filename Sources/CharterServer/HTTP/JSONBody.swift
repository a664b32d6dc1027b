import CharterCore
import Foundation
import Hummingbird
import UCAN

/// A request's JSON object, read strictly: wrong types and unknown fields are 422s naming the field.
struct JSONBody {
    static let maxBytes = 64 * 1024

    private let object: JSONObject

    /// Reads the body of `request` as a JSON object whose fields are all in `allowed`; a field the
    /// endpoint does not know is a 422, so a typo is never silently ignored.
    static func read(_ request: Request, allowed: Set<String>) async throws -> JSONBody {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw HTTPRefusal.payloadTooLarge(limit: maxBytes)
        }
        let bytes = buffer.readableBytesView
        guard !bytes.isEmpty else { return JSONBody(object: [:]) }
        guard case .object(let object)? = try? JSONParser.parse(Array(bytes)) else {
            throw CharterError.invalid("body", "must be a JSON object")
        }
        if let unknown = object.keys.filter({ !allowed.contains($0) }).min() {
            throw CharterError.invalid(String(unknown.prefix(40)), "is not a field of this request")
        }
        return JSONBody(object: object)
    }

    private init(object: JSONObject) { self.object = object }

    func string(_ name: String) throws -> String {
        guard let value = try optionalString(name) else { throw CharterError.invalid(name, "is required") }
        return value
    }

    func optionalString(_ name: String) throws -> String? {
        switch object[name] {
        case nil, .some(.null): return nil
        case .string(let text)?: return text
        default: throw CharterError.invalid(name, "must be a string")
        }
    }

    func optionalInteger(_ name: String) throws -> Int? {
        switch object[name] {
        case nil, .some(.null): return nil
        case .integer(let value)? where value >= Int64(Int32.min) && value <= Int64(Int32.max): return Int(value)
        default: throw CharterError.invalid(name, "must be an integer")
        }
    }

    func optionalStrings(_ name: String) throws -> [String]? {
        switch object[name] {
        case nil, .some(.null): return nil
        case .array(let items)?:
            return try items.map { item in
                guard case .string(let text) = item else {
                    throw CharterError.invalid(name, "must be an array of strings")
                }
                return text
            }
        default: throw CharterError.invalid(name, "must be an array of strings")
        }
    }

    /// Any JSON value, for fields whose shape the service checks (capability maps, policies).
    func value(_ name: String) throws -> JSONValue {
        guard let value = optionalValue(name) else { throw CharterError.invalid(name, "is required") }
        return value
    }

    /// Whether the request names the field, even as null.
    func has(_ name: String) -> Bool { object[name] != nil }

    /// Any JSON value, or nil when the field is absent or null.
    func optionalValue(_ name: String) -> JSONValue? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    func optionalObject(_ name: String) throws -> JSONObject? {
        switch object[name] {
        case nil, .some(.null): return nil
        case .object(let members)?: return members
        default: throw CharterError.invalid(name, "must be an object")
        }
    }

    func optionalDate(_ name: String) throws -> Date? {
        guard let text = try optionalString(name) else { return nil }
        guard let date = Timestamp.parse(text) else {
            throw CharterError.invalid(name, "must be an RFC 3339 time such as 2027-01-31T00:00:00Z")
        }
        return date
    }
}
