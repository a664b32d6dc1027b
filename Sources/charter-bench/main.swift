#if canImport(Glibc)
    import Glibc
#endif

// charter-bench: throughput figures, each beside the baseline it is judged against, measured in the same run.

let arguments = Array(CommandLine.arguments.dropFirst())
let seconds = arguments.firstIndex(of: "--seconds").flatMap { arguments[safe: $0 + 1] }.flatMap(Double.init)
switch arguments.first {
case "ucan":
    UCANBenchmark(roundSeconds: seconds ?? 0.5).run()
case "http":
    let rounds = arguments.firstIndex(of: "--rounds").flatMap { arguments[safe: $0 + 1] }.flatMap(Int.init)
    try await HTTPBenchmark(seconds: Int(seconds ?? 3), rounds: rounds ?? 7).run()
case "mint":
    try await MintBenchmark(seconds: seconds ?? 2).run()
case "client":
    try await ClientBenchmark(seconds: seconds ?? 3).run()
case "replicas":
    try await ReplicaBenchmark(seconds: Int(seconds ?? 10)).run()
case "verifier":
    try await VerifierBenchmark(roundSeconds: seconds ?? 0.5).run()
default:
    print("usage: charter-bench ucan|http|mint|client|verifier|replicas [--seconds S] [--rounds N (http)]")
    exit(2)
}
