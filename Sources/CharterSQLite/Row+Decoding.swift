import GRDB

extension Row {
    /// The value of `column`, converted to `Value`.
    ///
    /// Unlike the subscript, which stops the process, a value of the wrong type or a NULL where none belongs
    /// throws: a file edited by hand must make `charter audit verify` report, not crash.
    /// - Throws: ``CorruptRow`` naming the column, never the value.
    func decoded<Value: DatabaseValueConvertible>(_ column: String) throws -> Value {
        do {
            return try decode(Value.self, forColumn: column)
        } catch {
            throw CorruptRow(column)
        }
    }
}
