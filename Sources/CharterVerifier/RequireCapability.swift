import HTTPTypes
public import Hummingbird
import UCAN

/// Lets a request through only when its UCAN verifies and grants one capability.
///
/// Reads `Authorization: Bearer <ucan>` and proofs from the `ucans` header (comma-separated). Refusals are
/// JSON `{"error":{"code","message"}}`: 401 when the token is missing or fails verification, 403 when it
/// verifies but does not grant the capability, 503 while the verifier's revocation data is missing or stale.
/// The handler reads the verified token from ``VerifiedToken/current``.
public struct RequireCapability<Context: RequestContext>: RouterMiddleware {
    let verifier: CharterVerifier
    let capability: Capability
    let protectedResource: ProtectedResource?

    /// Creates the middleware.
    /// - Parameters:
    ///   - verifier: the verifier to check tokens with.
    ///   - resource: the resource URI the route acts on, such as `mailto:*`.
    ///   - ability: the ability it needs, such as `email/send`.
    ///   - protectedResource: the service as an OAuth protected resource, for its refusals to name.
    public init(
        _ verifier: CharterVerifier, resource: String, ability: String, protectedResource: ProtectedResource? = nil
    ) {
        self.verifier = verifier
        capability = Capability(resource: resource, ability: ability)
        self.protectedResource = protectedResource
    }

    /// Verifies the request's token, then runs the rest of the chain with it in ``VerifiedToken/current``.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let verified: VerifiedToken
        do {
            let (token, proofs) = try Self.credentials(in: request)
            verified = try verifier.verify(token, proofs: proofs, requiring: capability)
        } catch {
            return error.response(
                BearerChallenge(
                    presented: request.headers[.authorization] != nil, scope: capability.ability,
                    resource: protectedResource))
        }
        return try await VerifiedToken.$current.withValue(verified) {
            try await next(request, context)
        }
    }

    /// The bearer token and the `ucans` proofs.
    static func credentials(in request: Request) throws(VerificationError) -> (String, [String]) {
        guard let authorization = request.headers[.authorization] else {
            throw VerificationError(.malformed, "no Authorization header")
        }
        let prefix = "bearer "
        guard authorization.count > prefix.count, authorization.prefix(prefix.count).lowercased() == prefix else {
            throw VerificationError(.malformed, "the Authorization header is not a Bearer token")
        }
        let token = authorization.dropFirst(prefix.count).trimmingSpaces
        var proofs: [String] = []
        for header in request.headers[values: .ucans] {
            for part in header.split(separator: ",") {
                let proof = part.trimmingSpaces
                if !proof.isEmpty { proofs.append(proof) }
            }
        }
        return (token, proofs)
    }
}

extension HTTPField.Name {
    /// The header that carries a UCAN's proofs, comma-separated.
    static let ucans = HTTPField.Name("ucans")!
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
