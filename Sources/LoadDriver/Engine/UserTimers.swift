import HeapModule

/// The pending wake-ups of one event loop's users (a paced user wakes once per slot), as 16-byte values in a
/// min-heap, so the loop keeps a single NIO callback armed at the earliest deadline (``LoopWorker``) instead of one
/// NIO task per wake-up, whose heap retains and releases its elements on every swap.
///
/// Deadlines are uptime nanoseconds; users are their position in the worker's `users`.
package struct UserTimers: Sendable {
    package struct Entry: Comparable, Sendable {
        package var deadline: Int64
        package var user: Int32

        package init(deadline: Int64, user: Int32) {
            self.deadline = deadline
            self.user = user
        }

        package static func < (a: Entry, b: Entry) -> Bool {
            (a.deadline, a.user) < (b.deadline, b.user)
        }
    }

    private var heap = Heap<Entry>()

    package init() {}

    package var count: Int { self.heap.count }

    /// The earliest pending deadline.
    package var earliest: Int64? { self.heap.min?.deadline }

    package mutating func schedule(user: Int, at deadline: Int64) {
        self.heap.insert(Entry(deadline: deadline, user: Int32(truncatingIfNeeded: user)))
    }

    /// Removes the wake-ups due at `now` (deadline <= now) into `due`, earliest first. Wake-ups scheduled while the
    /// caller handles them wait for the next call, even when already due, so one call is bounded.
    package mutating func popDue(now: Int64, into due: inout [Int32]) {
        while let first = self.heap.min, first.deadline <= now {
            due.append(self.heap.removeMin().user)
        }
    }

    package mutating func removeAll() {
        self.heap = Heap()
    }
}
