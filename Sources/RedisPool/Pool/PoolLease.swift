import NIOCore

/// Identifies a connection slot of the pool (assigned by the pool before the connection exists).
package typealias PoolConnectionID = Int
/// Identifies a queued lease request.
package typealias PoolWaiterID = Int

/// A leased connection: its slot id, the connection and when it was leased.
package struct PoolLease<Connection> {
    package var id: PoolConnectionID
    package var connection: Connection
    package var leasedAt: NIODeadline

    package init(id: PoolConnectionID, connection: Connection, leasedAt: NIODeadline) {
        self.id = id
        self.connection = connection
        self.leasedAt = leasedAt
    }
}

extension PoolLease: Sendable where Connection: Sendable {}
extension PoolLease: Equatable where Connection: Equatable {}
