import CharterCore
import Foundation
import UCAN

#if canImport(Glibc)
    import Glibc
#endif

/// `charter-bench mint`: `TokenService.authorize` in-process, without HTTP, from 64 concurrent callers on a
/// real SQLite file, each mint signed, recorded and audited durably; beside raw libsodium signing in the same
/// run. CPU time per mint is less at the mercy of the machine's neighbours than throughput is.
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
        let request = AuthorizeRequest(
            audience: DID(publicKey: Ed25519.SigningKey().publicKey).string,
            capabilities: ["mailto:a@example.com": ["email/send": [[:]]]], ttlSeconds: 300)
        let context = BenchCharter.context

        let key = Ed25519.SigningKey()
        let message = [UInt8](repeating: 0x61, count: 575)
        var rates = Rounds()
        print("charter-bench mint: \(callers) concurrent callers, \(rounds) rounds of \(seconds)s, medians")
        for _ in 0..<rounds {
            let signStart = cpuSeconds()
            for _ in 0..<signatures { _ = key.signature(for: message) }
            rates.record("sign_us", (cpuSeconds() - signStart) * 1e6 / Double(signatures))

            let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
            let start = cpuSeconds()
            let wallStart = ContinuousClock.now
            let minted = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<callers {
                    group.addTask {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            _ = try await tokens.authorize(request, by: caller, context: context)
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
            rates.record("mints_per_s", Double(minted) / (ContinuousClock.now - wallStart).inSeconds)
            rates.record("mint_cpu_us", (cpuSeconds() - start) * 1e6 / Double(minted))
        }
        let mintCPU = rates.median("mint_cpu_us")
        print(String(format: "raw libsodium sign:   %7.1f µs of CPU", rates.median("sign_us")))
        print(
            String(
                format: "authorize in-process: %7.1f µs of CPU per mint, %.0f mints/s", mintCPU,
                rates.median("mints_per_s")))
        print(
            String(
                format: "ratios: mint_cpu/sign_cpu=%.2f mint_cpu_us=%.1f", mintCPU / rates.median("sign_us"), mintCPU))
    }

    /// CPU time used by the whole process so far (every thread, user and system).
    private func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
