import CharterCore
import CharterStorage
import NIOCore
import PostgresNIO

/// A PostgreSQL row, decoded through the shared ``StoredRow`` layer.
///
/// A missing column or a value of the wrong type throws ``CorruptRow`` rather than stopping the process, as
/// postgres-nio's subscript would for a missing column.
struct PostgresStoredRow: StoredRow {
    private let row: PostgresRandomAccessRow

    init(_ row: PostgresRandomAccessRow) { self.row = row }

    func text(_ column: String) throws -> String? { try decode(String.self, column) }
    func integer(_ column: String) throws -> Int64? { try decode(Int64.self, column) }
    func bytes(_ column: String) throws -> [UInt8]? {
        try decode(ByteBuffer.self, column).map { Array($0.readableBytesView) }
    }

    private func decode<Value: PostgresDecodable>(_ type: Value.Type, _ column: String) throws -> Value? {
        guard row.contains(column) else { throw CorruptRow(column) }
        let cell = row[column]
        guard cell.bytes != nil else { return nil }
        do {
            return try cell.decode(Value.self)
        } catch {
            throw CorruptRow(column)
        }
    }
}
