import CharterCore
import GRDB

extension CharterError {
    /// The conflict a uniqueness violation stands for; nil for any other error.
    ///
    /// SQLite's message names the table and columns, never the values, and is only read here: the
    /// client sees a fixed sentence.
    init?(constraintViolation error: DatabaseError) {
        guard
            error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        else { return nil }
        let columns = error.message ?? ""
        if columns.contains("api_keys.label") {
            self.init(.conflict, "the app already has a key with this label")
        } else if columns.contains("apps.name") {
            self.init(.conflict, "the organization already has an app with this name in this environment")
        } else if columns.contains("envelopes.name") {
            self.init(.conflict, "the app already has an envelope with this name")
        } else {
            self.init(.conflict, "this would duplicate an existing record")
        }
    }
}
