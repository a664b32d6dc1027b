import CSodium

/// The one place that initializes libsodium; every wrapper touches `ready` before its first C call.
enum Sodium {
    /// Runs `sodium_init` once per process; it only fails when the OS has no entropy source at all.
    static let ready: Void = {
        guard sodium_init() >= 0 else { fatalError("libsodium could not be initialized") }
    }()
}
