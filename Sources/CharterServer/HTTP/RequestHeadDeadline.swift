import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head has not fully arrived within ``limit`` of the connection
/// opening or the previous request ending: a client sending its headers a byte at a time (slowloris)
/// cannot hold a connection open, while the idle timeout closes connections that send nothing at all.
///
/// Requests only stamp a time; one timer per connection checks it every ``checkEvery``, so the hot path
/// schedules nothing.
final class RequestHeadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    static let limit: TimeAmount = .seconds(10)
    static let checkEvery: TimeAmount = .seconds(2)

    /// When the connection started waiting for a request head; nil while a request is being read.
    private var waitingSince: NIODeadline? = .now()
    private var check: RepeatedTask?

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        // The task runs on the channel's event loop, as channelRead does: it may read the stamp.
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: Self.checkEvery, delay: Self.checkEvery) {
            task in
            if let since = handler.value.waitingSince, NIODeadline.now() - since > Self.limit {
                task.cancel()
                channel.close(promise: nil)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: waitingSince = nil
        case .end: waitingSince = .now()
        case .body: break
        }
        context.fireChannelRead(data)
    }
}
