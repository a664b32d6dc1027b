/// A stored value that does not decode: the file was edited by something other than Charter.
///
/// Names the column, never the value, so it is safe to log.
struct CorruptRow: Error, CustomStringConvertible {
    let column: String

    init(_ column: String) { self.column = column }

    var description: String { "a stored \(column) could not be read" }
}
