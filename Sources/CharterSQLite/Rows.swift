import CharterStorage
import Foundation
import GRDB

/// Runs the statements CharterStorage builds, which spell every model's row once for both stores.
enum Rows {
    static func insert(_ row: StoredColumns, _ db: Database) throws {
        try execute(.insert(row), db)
    }

    static func execute(_ statement: StoredStatement, _ db: Database) throws {
        try db.cachedStatement(sql: statement.sql).execute(arguments: arguments(statement.values))
    }

    static func arguments(_ values: [ColumnValue]) -> StatementArguments {
        StatementArguments(
            values.map { value -> (any DatabaseValueConvertible)? in
                switch value {
                case .text(let text): text
                case .integer(let integer): integer
                case .bytes(let bytes): bytes.map { Data($0) }
                }
            })
    }
}
