import UCAN

#if canImport(Glibc)
    import Glibc
#endif

// charter-bench: throughput figures, each beside the raw operation it wraps, measured in the same run.

let arguments = CommandLine.arguments.dropFirst()
guard arguments.first == "ucan" else {
    print("usage: charter-bench ucan [--seconds S]")
    exit(2)
}
let seconds = arguments.firstIndex(of: "--seconds").flatMap { arguments[safe: $0 + 1] }.flatMap(Double.init) ?? 0.5
UCANBenchmark(roundSeconds: seconds).run()
