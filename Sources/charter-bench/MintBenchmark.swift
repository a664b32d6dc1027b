import CharterCore
import Foundation
import UCAN

#if canImport(Glibc)
    import Glibc
#endif

/// `charter-bench mint`: `TokenService.authorize` (UCAN 0.10) and `TokenService.delegate` (1.0) in-process,
/// without HTTP, from 64 concurrent callers on a real SQLite file, each mint signed, recorded and audited
/// durably; beside raw libsodium signing and the durable floor (``DurableFloor``) in the same rounds. CPU time per
/// mint is less at the mercy of the machine's neighbours than throughput is.
struct MintBenchmark {
    let seconds: Double
    let rounds = 5
    let callers = 64
    /// Raw signatures per round, about half a second's worth.
    let signatures = 20_000

    func run() async throws {
        let charter = try await BenchCharter()
        defer { charter.remove() }
        let caller = try await charter.ownerIdentity()
        try await BenchCharter.createEnvelope(charter.controlPlane, owner: charter.owner)
        let tokens = charter.controlPlane.tokens
        let audience = DID(publicKey: Ed25519.SigningKey().publicKey).string
        let request = AuthorizeRequest(
            audience: audience, capabilities: ["mailto:a@example.com": ["email/send": [[:]]]], ttlSeconds: 300)
        let delegation = DelegationRequest(audience: audience, command: "/email/send", ttlSeconds: 300)
        let context = BenchCharter.context
        let floor = try await DurableFloor(path: charter.directory.appendingPathComponent("floor.db").path)
        let formats: [(name: String, mint: @Sendable () async throws -> Void)] = [
            ("floor", { try await floor.mint() }),
            ("0.10", { _ = try await tokens.authorize(request, by: caller, context: context) }),
            ("1.0", { _ = try await tokens.delegate(delegation, by: caller, context: context) }),
        ]

        let key = Ed25519.SigningKey()
        let message = [UInt8](repeating: 0x61, count: 575)
        var rates = Rounds()
        print("charter-bench mint: \(callers) concurrent callers, \(rounds) rounds of \(seconds)s, medians")
        for _ in 0..<rounds {
            let signStart = cpuSeconds()
            for _ in 0..<signatures { _ = key.signature(for: message) }
            rates.record("sign_us", (cpuSeconds() - signStart) * 1e6 / Double(signatures))

            for format in formats {
                let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
                let start = cpuSeconds()
                let wallStart = ContinuousClock.now
                let minted = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<callers {
                        group.addTask {
                            var count = 0
                            while ContinuousClock.now < deadline {
                                try await format.mint()
                                count += 1
                            }
                            return count
                        }
                    }
                    return try await group.reduce(0, +)
                }
                rates.record("mints_per_s \(format.name)", Double(minted) / (ContinuousClock.now - wallStart).inSeconds)
                rates.record("mint_cpu_us \(format.name)", (cpuSeconds() - start) * 1e6 / Double(minted))
            }
        }
        let sign = rates.median("sign_us")
        let floorCPU = rates.median("mint_cpu_us floor")
        print(String(format: "raw libsodium sign:        %7.1f µs of CPU", sign))
        var ratios = ["floor_cpu/sign_cpu=" + String(format: "%.2f", floorCPU / sign)]
        for format in formats {
            let mintCPU = rates.median("mint_cpu_us \(format.name)")
            let label =
                (format.name == "floor" ? "durable floor:" : "mint \(format.name) in-process:")
                .padding(toLength: 26, withPad: " ", startingAt: 0)
            print(
                label
                    + String(
                        format: "%7.1f µs of CPU per mint, %.0f mints/s", mintCPU,
                        rates.median("mints_per_s \(format.name)")))
            guard format.name != "floor" else { continue }
            ratios.append("mint_cpu/sign_cpu[\(format.name)]=" + String(format: "%.2f", mintCPU / sign))
            ratios.append("mint_cpu/floor_cpu[\(format.name)]=" + String(format: "%.2f", mintCPU / floorCPU))
        }
        print("ratios: " + ratios.joined(separator: " "))
    }

    /// CPU time used by the whole process so far (every thread, user and system).
    private func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
