import CharterCore
import CharterStorage
import NIOCore
import PostgresNIO

// The statements every write or mint batch runs, prepared once per connection: PostgreSQL parses and plans each
// once instead of once per transaction. Their text never varies with the batch (arrays, not lists of values), so
// one prepared statement serves every batch size. Measured before: parsing and planning were about a quarter of
// PostgreSQL's CPU per mint (BENCHMARKS.md, issue 24).

/// Takes the lock every writing transaction takes first, the single row of `audit_counter`, and moves its
/// version: a mint batch that read an older version knows a write committed since (``InsertMints``).
struct LockWrites: PostgresPreparedStatement {
    static let sql = "UPDATE audit_counter SET version = version + 1 WHERE id = 1 RETURNING version"
    typealias Row = Int64

    func makeBindings() -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// What a mint batch needs to know, read in one statement, so at one moment: the writes' version and the last
/// audit number, which of the envelopes and keys it names are not revoked, and the last hash of each chain it
/// extends (empty for a chain not yet started).
struct MintBatchState: PostgresPreparedStatement {
    static let sql = """
        SELECT version, last_seq,
            ARRAY(SELECT id FROM envelopes WHERE id = ANY($1) AND revoked_at IS NULL),
            ARRAY(SELECT id FROM api_keys WHERE id = ANY($2) AND revoked_at IS NULL),
            \(ChainHeads.heads(of: "$3"))
        FROM audit_counter WHERE id = 1
        """
    typealias Row = (Int64, Int64, [String], [String], [ByteBuffer])

    let envelopeIDs: [String]
    let keyIDs: [String]
    /// The organizations whose chains the batch extends.
    let chains: [String]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(envelopeIDs)
        bindings.append(keyIDs)
        bindings.append(chains)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }

    /// The state decoded, with the chains' heads keyed by organization (``ChainHeads/heads(_:from:)``).
    struct Read {
        let version: Int64
        let lastSeq: Int64
        let activeEnvelopes: Set<String>
        let activeKeys: Set<String>
        var heads: [String?: [UInt8]]
    }
}

/// Records minted tokens with their audit records (``InsertAuditRecords``), any number in one statement, if no
/// write committed since the batch read `version` (``MintBatchState``): it takes the write lock by claiming the
/// audit numbers after `lastSeq`, and writes nothing when the version moved. Returns the version it left when it
/// wrote, no row when it did not.
///
/// Outside a transaction the statement commits alone, and a write committing while it waits for the lock moves
/// the version it then re-reads (READ COMMITTED re-checks an UPDATE's condition against the row's newest version).
/// `lastSeq` is checked too: a replica of a Charter from before the version column locks without moving it,
/// but every audited write moves the last number.
struct InsertMints: PostgresPreparedStatement {
    static let sql = """
        WITH claim AS (
            UPDATE audit_counter SET version = version + 1, last_seq = last_seq + $3
            WHERE id = 1 AND version = $1 AND last_seq = $2
            RETURNING version
        ), tokens AS (
            INSERT INTO minted_tokens (cid, org_id, app_id, environment, envelope_id, key_id, signing_key_id,
                audience, created_at, expires_at)
            SELECT * FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::text[], $12::bigint[], $13::bigint[])
            WHERE EXISTS (SELECT 1 FROM claim)
        ), audit AS (\(InsertAuditRecords.statement(firstParameter: 14))
            WHERE EXISTS (SELECT 1 FROM claim)
        )
        SELECT version FROM claim
        """
    typealias Row = Int64

    /// The version and last audit number the batch read.
    let version: Int64
    let lastSeq: Int64
    let tokens: [MintedToken]
    /// The mints' audit rows, numbered from `lastSeq + 1`.
    let audit: [StoredColumns]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 13 + InsertAuditRecords.columns.count)
        bindings.append(version)
        bindings.append(lastSeq)
        bindings.append(Int64(audit.count))
        bindings.append(tokens.map(\.cid.string))
        bindings.append(tokens.map(\.orgID))
        bindings.append(tokens.map(\.appID))
        bindings.append(tokens.map(\.environment.rawValue))
        bindings.append(tokens.map(\.envelopeID))
        bindings.append(tokens.map(\.keyID))
        bindings.append(tokens.map(\.signingKeyID))
        bindings.append(tokens.map(\.audience.string))
        bindings.append(tokens.map { StoredValue.time($0.createdAt) })
        bindings.append(tokens.map { StoredValue.time($0.expiresAt) })
        InsertAuditRecords.bind(audit, into: &bindings)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// Hands out `count` audit numbers to a transaction holding the write lock and returns the last one.
struct NextAuditSeqs: PostgresPreparedStatement {
    static let sql = "UPDATE audit_counter SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq"
    typealias Row = Int64

    let count: Int64

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(count)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// The hash of each organization's last audit record, in the order asked; empty for a chain not yet started.
struct ChainHeads: PostgresPreparedStatement {
    static let sql = "SELECT \(heads(of: "$1"))"
    typealias Row = [ByteBuffer]

    /// The heads as one array expression, over the `text[]` parameter `organizations`.
    static func heads(of organizations: String) -> String {
        """
        ARRAY(SELECT COALESCE(
                (SELECT hash FROM audit_records WHERE org_id = chain ORDER BY seq DESC LIMIT 1), '\\x'::bytea)
            FROM UNNEST(\(organizations)::text[]) WITH ORDINALITY AS chains (chain, position) ORDER BY position)
        """
    }

    let organizations: [String]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(organizations)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> [ByteBuffer] { try row.decode([ByteBuffer].self) }

    /// The heads `hashes` names for `organizations`, leaving out chains not yet started (their head is the
    /// genesis hash).
    static func heads(_ organizations: [String], from hashes: [ByteBuffer]) -> [String?: [UInt8]] {
        var heads: [String?: [UInt8]] = [:]
        for (organization, hash) in zip(organizations, hashes) where hash.readableBytes > 0 {
            heads[organization] = Array(hash.readableBytesView)
        }
        return heads
    }
}

/// The hash of the last audit record no organization owns.
struct UnattributedChainHead: PostgresPreparedStatement {
    static let sql = "SELECT hash FROM audit_records WHERE org_id IS NULL ORDER BY seq DESC LIMIT 1"
    typealias Row = ByteBuffer

    func makeBindings() -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> ByteBuffer { try row.decode(ByteBuffer.self) }
}

/// Appends audit rows (``AuditRows/link(_:firstSeq:heads:)``), any number in one statement, one array per column.
struct InsertAuditRecords: PostgresPreparedStatement {
    /// The rows' columns, in the order ``AuditRows`` spells them, with their PostgreSQL types.
    static let columns: [(name: String, type: String)] = [
        ("seq", "bigint"), ("org_id", "text"), ("time_ms", "bigint"), ("environment", "text"), ("key_id", "text"),
        ("action", "text"), ("target", "text"), ("outcome", "text"), ("reason", "text"), ("ip", "text"),
        ("request_id", "text"), ("details", "text"), ("previous_hash", "bytea"), ("hash", "bytea"),
    ]
    static let sql = statement(firstParameter: 1)

    /// The statement, with its parameters numbered from `firstParameter`.
    static func statement(firstParameter: Int) -> String {
        "\nINSERT INTO audit_records (\(columns.map(\.name).joined(separator: ", "))) SELECT * FROM UNNEST("
            + columns.enumerated().map { "$\($0.offset + firstParameter)::\($0.element.type)[]" }
            .joined(separator: ", ") + ")"
    }

    typealias Row = ()

    let rows: [StoredColumns]

    func makeBindings() -> PostgresBindings {
        var bindings = PostgresBindings(capacity: Self.columns.count)
        Self.bind(rows, into: &bindings)
        return bindings
    }

    /// Appends one array per column of `rows`.
    static func bind(_ rows: [StoredColumns], into bindings: inout PostgresBindings) {
        precondition(
            rows.allSatisfy { $0.names.elementsEqual(columns.lazy.map(\.name)) },
            "audit rows must have InsertAuditRecords.columns")
        for column in columns.indices {
            let values = rows.map { $0.values[column] }
            switch columns[column].type {
            case "bigint": bindings.append(NullableArray(values.map(\.integer)))
            case "bytea": bindings.append(NullableArray(values.map(\.bytes)))
            default: bindings.append(NullableArray(values.map(\.text)))
            }
        }
    }

    func decodeRow(_ row: PostgresRow) throws {}
}

extension ColumnValue {
    fileprivate var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    fileprivate var text: String? { if case .text(let value) = self { value } else { nil } }
    fileprivate var bytes: ByteBuffer? {
        if case .bytes(let value) = self { value.map { ByteBuffer(bytes: $0) } } else { nil }
    }
}

/// A one-dimensional array whose elements may be NULL, which postgres-nio's own arrays cannot carry; in
/// PostgreSQL's binary array format.
struct NullableArray<Element: PostgresArrayEncodable & PostgresNonThrowingEncodable>: PostgresNonThrowingEncodable {
    let elements: [Element?]

    init(_ elements: [Element?]) { self.elements = elements }

    static var psqlType: PostgresDataType { Element.psqlArrayType }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        buffer.writeInteger(elements.isEmpty ? 0 : 1, as: Int32.self)  // dimensions
        buffer.writeInteger(elements.contains { $0 == nil } ? 1 : 0, as: Int32.self)  // has NULLs
        buffer.writeInteger(Element.psqlType.rawValue)
        guard !elements.isEmpty else { return }
        buffer.writeInteger(Int32(elements.count))  // length
        buffer.writeInteger(1, as: Int32.self)  // lower bound
        for element in elements {
            // Each element: its length in bytes (-1 for NULL), then its bytes.
            guard let element else {
                buffer.writeInteger(-1, as: Int32.self)
                continue
            }
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(0, as: Int32.self)
            element.encode(into: &buffer, context: context)
            buffer.setInteger(Int32(buffer.writerIndex - lengthIndex - 4), at: lengthIndex)
        }
    }
}
