import Foundation
public import Logging
import UCAN

/// One JSON object per line on stderr: time, level, label, message and metadata.
///
/// `charter serve` installs it, and the benchmarks use it so that they pay what the server pays per request
/// (Hummingbird sets a request id in each request's logger metadata, which this handler stores as it is; swift-log's
/// default handler re-renders all of its metadata on every set). Callers never log secrets; this handler adds
/// nothing of its own.
public struct JSONLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: JSONObject = [
            "time": .string(Date().formatted(.iso8601)),
            "level": .string(event.level.rawValue),
            "label": .string(label),
            "message": .string(event.message.description),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = .string(value.description)
        }
        var line = JSONValue.object(fields).serialized()
        line.append(UInt8(ascii: "\n"))
        FileHandle.standardError.write(Data(line))
    }
}
