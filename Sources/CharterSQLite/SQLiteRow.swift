import CharterCore
import CharterStorage
import Foundation
import GRDB

/// A GRDB row, decoded through the shared ``StoredRow`` layer.
///
/// Unlike GRDB's subscript, which stops the process, a value of the wrong type or a missing column throws
/// ``CorruptRow``: a file edited by hand must make `charter audit verify` report, not crash.
struct SQLiteRow: StoredRow {
    private let row: Row

    init(_ row: Row) { self.row = row }

    func text(_ column: String) throws -> String? { try decoded(String.self, column) }
    func integer(_ column: String) throws -> Int64? { try decoded(Int64.self, column) }
    func bytes(_ column: String) throws -> [UInt8]? { try decoded(Data.self, column).map(Array.init) }

    private func decoded<Value: DatabaseValueConvertible>(_ type: Value.Type, _ column: String) throws -> Value? {
        do {
            return try row.decode(Value?.self, forColumn: column)
        } catch {
            throw CorruptRow(column)
        }
    }
}
