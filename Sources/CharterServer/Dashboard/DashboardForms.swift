import CharterCore
import Foundation
import Hummingbird
import UCAN

/// A form the dashboard posts: `application/x-www-form-urlencoded`, decoded by Hummingbird's
/// `URLEncodedFormDecoder`.
protocol DashboardForm: Decodable, Sendable {}

/// A form that changes something, and so carries the session's CSRF token.
protocol ProtectedForm: DashboardForm {
    var csrf: String? { get }
}

extension ProtectedForm {
    /// Whether the form carries the session's CSRF token, compared in constant time; never for an empty token.
    func carries(csrf token: String) -> Bool {
        !token.isEmpty && SecureBytes.constantTimeEquals(Array((csrf ?? "").utf8), Array(token.utf8))
    }
}

extension DashboardForm {
    /// The form in `request`'s body, read up to the context's upload limit.
    /// - Throws: ``HTTPRefusal/payloadTooLarge(limit:)`` over the limit; a `validation_failed`
    ///   ``CharterError`` naming the field when the body is not such a form.
    static func decode(_ request: Request, _ context: CharterRequestContext) async throws -> Self {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: context.maxUploadSize)
        } catch {
            throw HTTPRefusal.payloadTooLarge(limit: context.maxUploadSize)
        }
        do {
            return try URLEncodedFormDecoder().decode(Self.self, from: String(buffer: body))
        } catch let error as DecodingError where error.field != nil {
            throw CharterError.invalid(
                error.field ?? "", "is not a value this form sends; reload the page and try again")
        } catch {
            throw CharterError(
                .validationFailed, "the form is not one this dashboard sends; reload the page and try again")
        }
    }
}

extension DecodingError {
    /// The form field the error is about, when it names one.
    fileprivate var field: String? {
        let path: [any CodingKey] =
            switch self {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                context.codingPath
            case .keyNotFound(let key, let context): context.codingPath + [key]
            @unknown default: []
            }
        return path.first?.stringValue
    }
}

extension Optional<String> {
    /// The field's text without surrounding blanks; nil when the field is absent or blank, as a browser sends
    /// an empty input as an empty value.
    var trimmed: String? {
        guard let text = self?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    /// One entry per line (or comma) of a text area.
    var lines: [String] {
        (self ?? "").split(whereSeparator: { $0 == "\n" || $0 == "," || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

/// The forms, one per action.
enum DashboardForms {
    struct SignIn: DashboardForm {
        let key: String?
    }

    /// A form with nothing but its CSRF token: revocations, duplication, signing out.
    struct Confirm: ProtectedForm {
        let csrf: String?
    }

    struct CreateApp: ProtectedForm {
        let csrf: String?
        let name: String?
        let environment: String?
    }

    struct CreateKey: ProtectedForm {
        let csrf: String?
        let label: String?
        let role: String?
        let permissions: [String]?
        let expiry: String?
        let expiresOn: String?
        let ipAllowlist: String?
        let allowedEndpoints: String?
        let rateLimitPerMinute: String?

        enum CodingKeys: String, CodingKey {
            case csrf, label, role, permissions, expiry
            case expiresOn = "expires_on"
            case ipAllowlist = "ip_allowlist"
            case allowedEndpoints = "allowed_endpoints"
            case rateLimitPerMinute = "rate_limit_per_minute"
        }
    }

    struct CreateEnvelope: ProtectedForm {
        let csrf: String?
        let appID: String?
        let name: String?
        let capabilities: String?
        let commands: String?
        let audiences: String?
        let maxTTLSeconds: String?

        enum CodingKeys: String, CodingKey {
            case csrf, name, capabilities, commands, audiences
            case appID = "app_id"
            case maxTTLSeconds = "max_ttl_seconds"
        }
    }

    struct RotateSigningKey: ProtectedForm {
        let csrf: String?
        let environment: String?
    }
}
