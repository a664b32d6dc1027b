import ArgumentParser
import CharterHTTP
import Foundation

extension CharterClientError {
    /// Prints `error: <code>: <message>` as one line on stderr and returns the exit code to end with.
    func reported() -> ExitCode {
        let line = "error: \(self)".replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data((line + "\n").utf8))
        return .failure
    }
}
