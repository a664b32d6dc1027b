import CharterCore
import Foundation
import Testing

/// Reading one organization's audit trail with filters and pages, against every store.
@Suite struct AuditQueryStoreTests {
    @Test(arguments: StoreFactory.all)
    func queriesFilterWithinOneOrganizationNewestFirst(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            let start = fixture.now
            var events: [AuditEvent] = []
            for index in 0..<30 {
                let org = index % 3 == 0 ? other.org.id : acme.org.id
                let outcome: AuditEvent.Outcome = index % 4 == 0 ? .denied : .success
                events.append(
                    fixture.event(
                        index % 2 == 0 ? "key.create" : "token.mint", org: org, key: "key_\(index % 5)",
                        outcome: outcome,
                        at: start.addingTimeInterval(Double(index))))
            }
            events.append(fixture.event("request.denied", org: nil, key: "key_1", outcome: .denied))
            try await store.appendAudit(events)
            let mine = try await fixture.chain(acme.org.id).reversed().map { $0 }

            func check(
                _ query: AuditQuery, _ wanted: (AuditRecord) -> Bool, sourceLocation: SourceLocation = #_sourceLocation
            )
                async throws
            {
                let found = try await store.auditRecords(orgID: acme.org.id, query: query)
                let expected = Array(mine.filter(wanted).prefix(query.limit))
                #expect(found == expected, "\(query)", sourceLocation: sourceLocation)
            }
            try await check(AuditQuery()) { _ in true }
            try await check(AuditQuery(limit: 3)) { _ in true }
            try await check(AuditQuery(keyID: "key_1")) { $0.event.keyID == "key_1" }
            try await check(AuditQuery(action: "token.mint")) { $0.event.action == "token.mint" }
            try await check(AuditQuery(outcome: .denied)) { $0.event.outcome == .denied }
            let since = start.addingTimeInterval(10)
            let until = start.addingTimeInterval(20)
            try await check(AuditQuery(since: since)) { $0.event.time >= since }
            try await check(AuditQuery(until: until)) { $0.event.time <= until }
            try await check(AuditQuery(since: since, until: since)) { $0.event.time == since }
            try await check(
                AuditQuery(keyID: "key_2", action: "key.create", outcome: .success, since: since, until: until)
            ) {
                $0.event.keyID == "key_2" && $0.event.action == "key.create" && $0.event.outcome == .success
                    && $0.event.time >= since && $0.event.time <= until
            }
            let middle = mine[5].seq
            try await check(AuditQuery(before: middle)) { $0.seq < middle }
            try await check(AuditQuery(keyID: "key_nobody")) { _ in false }
            #expect(try await store.auditRecords(orgID: "org_nobody", query: AuditQuery()).isEmpty)
        }
    }

    @Test(arguments: StoreFactory.all)
    func pagesWalkEveryRecordOnce(factory: StoreFactory) async throws {
        try await factory.withStore { store in
            let fixture = StoreFixture(store: store)
            let acme = try await fixture.organization()
            let other = try await fixture.organization("Other")
            for index in 0..<17 {
                try await store.appendAudit([
                    fixture.event("a.\(index)", org: acme.org.id), fixture.event("b.\(index)", org: other.org.id),
                ])
            }
            var seen: [AuditRecord] = []
            var before: Int64?
            while true {
                let page = try await store.auditRecords(orgID: acme.org.id, query: AuditQuery(before: before, limit: 4))
                guard let last = page.last else { break }
                #expect(page.count <= 4)
                #expect(zip(page, page.dropFirst()).allSatisfy { $0.seq > $1.seq }, "newest first")
                seen += page
                before = last.seq
            }
            #expect(seen.map(\.seq) == (try await fixture.chain(acme.org.id)).reversed().map(\.seq))
            #expect(seen.allSatisfy { $0.event.orgID == acme.org.id })
        }
    }
}
