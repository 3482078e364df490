import DequeModule
import NIOCore

/// Lease requests waiting for a connection, first come first served.
///
/// Enqueue, pop and cancel are O(1): a cancelled waiter leaves the table at once and its id stays in the order queue
/// until it reaches the front, where it is skipped. Deadlines are the enqueue time plus one fixed acquire timeout, so
/// the front waiter is always the first to expire. ``peak`` is the highest ``count`` seen.
package struct PoolWaiterQueue<Waiter> {
    package struct Entry {
        package var waiter: Waiter
        package var enqueuedAt: NIODeadline
        package var deadline: NIODeadline

        package init(waiter: Waiter, enqueuedAt: NIODeadline, deadline: NIODeadline) {
            self.waiter = waiter
            self.enqueuedAt = enqueuedAt
            self.deadline = deadline
        }
    }

    private var entries: [PoolWaiterID: Entry] = [:]
    /// Arrival order of `entries`; may hold ids of cancelled waiters.
    private var order: Deque<PoolWaiterID> = []
    package private(set) var peak = 0

    package init() {}

    package var count: Int { entries.count }
    package var isEmpty: Bool { entries.isEmpty }

    package mutating func enqueue(_ id: PoolWaiterID, _ entry: Entry) {
        entries[id] = entry
        order.append(id)
        if entries.count > peak { peak = entries.count }
    }

    /// Removes waiter `id`; `nil` when it is not queued (served, failed, expired or never queued).
    package mutating func cancel(_ id: PoolWaiterID) -> Waiter? {
        entries.removeValue(forKey: id)?.waiter
    }

    /// Removes and returns the oldest waiter.
    package mutating func popFirst() -> Entry? {
        while let id = order.popFirst() {
            if let entry = entries.removeValue(forKey: id) { return entry }
        }
        return nil
    }

    /// Removes and returns the oldest waiter if its deadline is at or before `now`.
    package mutating func popExpired(now: NIODeadline) -> Entry? {
        while let id = order.first {
            guard let index = entries.index(forKey: id) else {
                order.removeFirst()
                continue
            }
            guard entries.values[index].deadline <= now else { return nil }
            order.removeFirst()
            return entries.remove(at: index).value
        }
        return nil
    }
}

extension PoolWaiterQueue: Sendable where Waiter: Sendable {}
extension PoolWaiterQueue.Entry: Sendable where Waiter: Sendable {}
