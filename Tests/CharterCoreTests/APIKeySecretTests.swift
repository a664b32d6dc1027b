import CharterCore
import Testing

@Suite struct APIKeySecretTests {
    @Test(arguments: Environment.allCases)
    func generatedKeysHaveTheShapeAndEnoughRandomness(environment: Environment) throws {
        var seen = Set<String>()
        for _ in 0..<200 {
            let generated = APIKeySecret.generate(for: environment)
            #expect(generated.plaintext.hasPrefix("chr_\(environment.rawValue)_"))
            #expect(generated.plaintext.count == 48)
            #expect(try APIKeySecret.environment(of: generated.plaintext) == environment)
            #expect(generated.hash == APIKeySecret.hash(of: generated.plaintext))
            #expect(generated.hash.count == 32)
            #expect(!generated.display.contains(String(generated.plaintext.dropFirst(13).prefix(25))))
            seen.insert(generated.plaintext)
        }
        #expect(seen.count == 200)
        // 33 base62 characters carry 33 · log2(62) ≈ 196 bits; check every position varies.
        let keys = Array(seen)
        for position in 9..<42 {
            let characters = Set(keys.map { Array($0)[position] })
            #expect(characters.count > 20, "position \(position) looks constant")
        }
    }

    @Test func everySingleCharacterChangeIsDetected() throws {
        let key = APIKeySecret.generate(for: .live).plaintext
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
        for index in key.indices {
            for replacement in alphabet where replacement != key[index] {
                var changed = key
                changed.replaceSubrange(index...index, with: String(replacement))
                #expect(throws: CharterError.self) { try APIKeySecret.environment(of: changed) }
            }
        }
    }

    @Test(arguments: [
        "", "chr_live_", "chr_live_abc", "sk_live_" + String(repeating: "a", count: 40),
        "chr_live_" + String(repeating: "!", count: 39),
    ])
    func malformedKeysAreRefused(text: String) {
        let error = #expect(throws: CharterError.self) { try APIKeySecret.environment(of: text) }
        #expect(error?.code == .apiKeyMalformed)
    }
}

@Suite struct CIDRTests {
    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true), ("10.0.0.0/8", "11.0.0.0", false),
        ("203.0.113.7/32", "203.0.113.7", true), ("203.0.113.7/32", "203.0.113.8", false),
        ("203.0.113.7", "203.0.113.7", true), ("0.0.0.0/0", "8.8.8.8", true),
        ("2001:db8::/32", "2001:db8:1234::1", true), ("2001:db8::/32", "2001:db9::1", false),
        ("2001:db8::/32", "10.0.0.1", false), ("10.0.0.0/8", "2001:db8::1", false),
        ("10.0.0.0/8", "::ffff:10.1.2.3", true), ("::1/128", "::1", true),
    ])
    func membership(network: String, address: String, inside: Bool) throws {
        let cidr = try CIDR(network)
        let ip = try #require(IPAddress(address))
        #expect(cidr.contains(ip) == inside)
    }

    @Test(arguments: [
        "10.0.0.0/33", "10.1.2.3/8", "example.com", "10.0.0.0/-1", "10.0.0.0/", "2001:db8::/129", "1.2.3.4/8x", "",
        "10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/ 8",
    ])
    func badNetworksAreRefused(text: String) {
        let error = #expect(throws: CharterError.self) { try CIDR(text) }
        #expect(error?.field == "ip_allowlist")
    }

    @Test func networkContainment() throws {
        #expect(try CIDR("10.0.0.0/8").contains(CIDR("10.1.0.0/16")))
        #expect(try CIDR("10.0.0.0/8").contains(CIDR("10.0.0.0/8")))
        #expect(try !CIDR("10.1.0.0/16").contains(CIDR("10.0.0.0/8")))
        #expect(try !CIDR("10.0.0.0/8").contains(CIDR("11.0.0.0/16")))
        #expect(try !CIDR("0.0.0.0/0").contains(CIDR("2001:db8::/32")))
    }

    @Test func canonicalForms() throws {
        #expect(try CIDR("2001:0db8:0000::/32").description == "2001:db8::/32")
        #expect(try CIDR("192.168.1.1").description == "192.168.1.1/32")
    }
}

@Suite struct RoleTests {
    @Test func rolesMatchDesign() {
        #expect(Role.owner.permissions == Set(Permission.allCases))
        #expect(Role.admin.permissions == Set(Permission.allCases).subtracting([.orgManage]))
        #expect(Role.auditor.permissions.allSatisfy { $0.isRead })
        #expect(Role.member.permissions == [.orgRead, .membersRead])
        #expect(Role.agent.permissions == [.tokenAuthorize])
        #expect(!Role.policyAuthor.permissions.contains(.keysWrite))
        #expect(Role.policyAuthor.permissions.contains(.envelopesWrite))
        #expect(Role.agentManager.permissions.isSuperset(of: [.keysWrite, .appsWrite, .tokenAuthorize]))
        #expect(!Role.agentManager.permissions.contains(.envelopesWrite))
        for role in Role.allCases { #expect(Role.matching(role.permissions) == role) }
    }
}
