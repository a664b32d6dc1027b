import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request does not arrive in time: its head must be complete within ``head`` of
/// the connection opening or the previous response being sent, and its body within ``body`` of the head. A
/// client sending its headers or its body a byte at a time (slowloris, slow POST) cannot hold a connection
/// open, while the idle timeout closes connections that send nothing at all. The time a handler takes to
/// answer counts against neither.
///
/// Requests only stamp a time; one timer per connection checks the stamps a few times per deadline, so the
/// hot path schedules nothing.
final class RequestDeadline: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let head: TimeAmount
    let body: TimeAmount

    /// When the connection started waiting for a request head; nil while a request is read or answered.
    private var waitingSince: NIODeadline? = .now()
    /// When the head of the request being read arrived; nil between requests.
    private var readingSince: NIODeadline?
    /// Requests whose head has arrived and whose response has not been sent (more than one when pipelined;
    /// a response may also be sent before its request's body has all arrived).
    private var unanswered = 0
    private var check: RepeatedTask?

    /// - Parameters:
    ///   - head: how long a request head may take to arrive.
    ///   - body: how long a request body may take to arrive after its head.
    init(head: TimeAmount, body: TimeAmount) {
        self.head = head
        self.body = body
    }

    /// How often the stamps are checked: a deadline is enforced at most this late.
    var checkEvery: TimeAmount {
        .nanoseconds(max(min(TimeAmount.seconds(2).nanoseconds, min(head, body).nanoseconds / 4), 1_000_000))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        // The task runs on the channel's event loop, as channelRead does: it may read the stamps.
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: checkEvery, delay: checkEvery) { task in
            if handler.value.overdue(at: .now()) {
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
        case .head:
            waitingSince = nil
            readingSince = .now()
            unanswered += 1
        case .end:
            readingSince = nil
            if unanswered == 0 { waitingSince = .now() }
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered = max(unanswered - 1, 0)
            if unanswered == 0, readingSince == nil { waitingSince = .now() }
        }
        context.write(data, promise: promise)
    }

    private func overdue(at now: NIODeadline) -> Bool {
        if let readingSince { return now - readingSince > body }
        if let waitingSince { return now - waitingSince > head }
        return false
    }
}
