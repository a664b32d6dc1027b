extension Collection {
    subscript(safe index: Index) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// Runs `body` in a loop for about `seconds` and returns operations per second.
func opsPerSecond(seconds: Double, _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    var iterations = 0
    var batch = 16
    let start = clock.now
    let limit = Duration.milliseconds(Int(seconds * 1000))
    var elapsed = Duration.zero
    while elapsed < limit {
        for _ in 0..<batch { try body() }
        iterations += batch
        elapsed = clock.now - start
        batch = min(batch * 2, 4096)
    }
    return Double(iterations) / elapsed.inSeconds
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

/// The median of several interleaved rounds, so a burst of noise hits every case alike.
struct Rounds {
    private var samples: [String: [Double]] = [:]

    mutating func record(_ name: String, _ value: Double) { samples[name, default: []].append(value) }

    /// The latest sample of `name`.
    func last(_ name: String) -> Double { samples[name]?.last ?? 0 }

    func median(_ name: String) -> Double {
        let sorted = (samples[name] ?? []).sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
