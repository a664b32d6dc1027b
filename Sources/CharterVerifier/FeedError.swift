/// Why a sync round failed: unreachable server, bad status or a response that is not the documented shape.
struct FeedError: Error, Sendable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
