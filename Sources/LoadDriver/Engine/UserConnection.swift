import NIOCore

/// A virtual user's keep-alive connection, as ``VirtualUser`` uses it: one request written at a time, responses
/// delivered to ``VirtualUser/responseReceived(status:body:connectionWillClose:at:)`` and the close to
/// ``VirtualUser/connectionClosed(_:error:)``, all on the user's event loop.
///
/// Two transports implement it: ``UserConnectionHandler`` (a SwiftNIO channel, which reads each response when it
/// arrives) and ``TickConnection`` (a socket the worker reads once per timer tick, for paced and arrival-rate users).
protocol UserConnection: AnyObject {
    /// Writes one encoded request; `collectBody` keeps the response body for captures.
    func send(_ request: ByteBuffer, isHEAD: Bool, collectBody: Bool)
    /// Closes the connection; the user hears of it through `connectionClosed` unless it already let go of it.
    func close()
    var allocator: ByteBufferAllocator { get }
}
