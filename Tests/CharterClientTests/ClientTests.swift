import Testing

@testable import CharterClient
