/// The agent SDK: API key in, cached and refreshed UCANs out (being built).
public enum CharterClientModule {}
