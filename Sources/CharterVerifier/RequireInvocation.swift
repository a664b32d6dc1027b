import Foundation
import HTTPTypes
public import Hummingbird
public import UCAN

/// Lets a request through only when it carries a UCAN 1.0 invocation of one command that verifies.
///
/// Reads the invocation from `Authorization: Bearer <base64>` and the delegations it cites from the `ucans`
/// header (comma-separated), each the standard base64 of its envelope's bytes, as `/v1/authorize` returns a
/// delegation and `charter ucan` prints one. Refusals are JSON `{"error":{"code","message","field"?}}`: 401 when
/// the invocation is missing, invalid, replayed or revoked; 403 when it is for another command or its arguments
/// break a policy (`policy_violation` naming the statement); 503 while the verifier's revocation data is missing
/// or stale. A 401 carries `WWW-Authenticate: Bearer` (with `error="invalid_token"` when a credential was sent
/// and, given a ``ProtectedResource``, its `resource_metadata`). The handler reads the verified invocation from ``VerifiedInvocation/current``.
public struct RequireInvocation<Context: RequestContext>: RouterMiddleware {
    let verifier: CharterVerifier
    let command: Command
    let protectedResource: ProtectedResource?

    /// Creates the middleware.
    /// - Parameters:
    ///   - verifier: the verifier to check invocations with.
    ///   - command: the command the route serves, such as `/email/send`.
    ///   - protectedResource: the service as an OAuth protected resource, for its refusals to name.
    public init(_ verifier: CharterVerifier, command: Command, protectedResource: ProtectedResource? = nil) {
        self.verifier = verifier
        self.command = command
        self.protectedResource = protectedResource
    }

    /// Verifies the request's invocation, then runs the rest of the chain with it in
    /// ``VerifiedInvocation/current``.
    public func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let verified: VerifiedInvocation
        do {
            let (invocation, proofs) = try Self.credentials(in: request)
            verified = try verifier.verify(invocation: invocation, proofs: proofs, requiring: command)
        } catch {
            return error.response(
                BearerChallenge(
                    presented: request.headers[.authorization] != nil, scope: nil, resource: protectedResource))
        }
        return try await VerifiedInvocation.$current.withValue(verified) {
            try await next(request, context)
        }
    }

    /// The invocation and the delegations, decoded from base64.
    static func credentials(in request: Request) throws(VerificationError) -> ([UInt8], [[UInt8]]) {
        let (token, proofs) = try RequireCapability<Context>.credentials(in: request)
        func bytes(_ text: String, _ field: String) throws(VerificationError) -> [UInt8] {
            guard let data = Data(base64Encoded: Self.padded(text)), !data.isEmpty else {
                throw VerificationError(.malformed, "\(field) is not the base64 of a UCAN 1.0 envelope", field: field)
            }
            return Array(data)
        }
        var decoded: [[UInt8]] = []
        for (index, proof) in proofs.enumerated() { decoded.append(try bytes(proof, "proofs[\(index)]")) }
        return (try bytes(token, "invocation"), decoded)
    }

    /// Base64 with its padding restored, so padded and unpadded forms both decode.
    private static func padded(_ text: String) -> String {
        text + String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
    }
}
