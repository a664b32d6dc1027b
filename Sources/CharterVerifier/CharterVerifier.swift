/// Offline verification of Charter-minted UCANs for upstream services (being built).
public enum CharterVerifierModule {}
