/// One of an organization's two worlds; tokens never cross from one to the other.
public enum Environment: String, Sendable, Hashable, CaseIterable, Codable {
    case live
    case test
}
