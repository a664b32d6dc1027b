import Foundation
import Synchronization
import UCAN

/// A clock that tests move by hand, on top of the real time tokens are minted at.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    /// Moves the clock by `seconds`, forward or back.
    func advance(_ seconds: TimeInterval) { offset.withLock { $0 += seconds } }

    /// Sets the clock to `seconds` away from the real time.
    func set(_ seconds: TimeInterval) { offset.withLock { $0 = seconds } }

    var now: @Sendable () -> Date { { [self] in Date().addingTimeInterval(offset.withLock { $0 }) } }
}

/// Helpers every verifier test uses: an agent key and its delegations.
struct Agent {
    let key = Ed25519.SigningKey()
    var did: DID { DID(publicKey: key.publicKey) }

    /// A delegation from this agent to `audience`, citing `root`.
    func delegate(
        _ root: UCAN, to audience: DID, capabilities: [Capability], expiration: Int64? = nil,
        notBefore: Int64? = nil
    ) throws -> UCAN {
        try UCAN(
            signing: Payload(
                issuer: did, audience: audience, notBefore: notBefore,
                expiration: expiration ?? root.payload.expiration, capabilities: try Capabilities(capabilities),
                proofs: [root.cid]),
            with: key)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
