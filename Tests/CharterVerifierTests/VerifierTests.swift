import Testing

@testable import CharterVerifier
