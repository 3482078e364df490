import NIOCore

/// The pool's connections by slot id, with the idle ones on a stack and a count per state.
///
/// Every change of a slot goes through one function (`account(_:from:to:now:)`), which keeps ``counts``, the idle
/// stack, the time-weighted leased level and the leased peak in step: no caller updates a count. Leasing pops the
/// most recently parked idle connection (LIFO keeps hot connections hot and lets the surplus reach the idle timeout);
/// lease, release and lookup are O(1).
package struct PoolConnectionSlots<Connection> {
    package enum State {
        /// Connect in progress; the slot has no connection yet.
        case connecting
        /// Parked, ready to lease. `since`: when it became idle; `lastActivity`: last traffic (lease or PING).
        case idle(since: NIODeadline, lastActivity: NIODeadline)
        /// Leased since `since`; `leakReported` once a leak warning was logged for this lease.
        case leased(since: NIODeadline, leakReported: Bool)
        /// A keep-alive PING is in flight; `idleSince` is kept for when it parks again.
        case pinging(idleSince: NIODeadline)
        /// Close requested; the slot goes away when the close completes.
        case closing
    }

    package struct Slot {
        package var state: State
        /// Set once the connect succeeded (every state but `connecting` has one).
        package var connection: Connection?
    }

    /// Connections per state; `total` is every slot.
    package struct Counts: Hashable, Sendable {
        package var connecting = 0
        package var idle = 0
        package var leased = 0
        package var pinging = 0
        package var closing = 0

        package init() {}

        package var total: Int { connecting + idle + leased + pinging + closing }
        /// Open or opening, not closing: what counts toward `minimumConnections`.
        package var alive: Int { total - closing }

        @inline(__always)
        mutating func add(_ state: State, _ delta: Int) {
            switch state {
            case .connecting: connecting += delta
            case .idle: idle += delta
            case .leased: leased += delta
            case .pinging: pinging += delta
            case .closing: closing += delta
            }
        }
    }

    private var slots: [PoolConnectionID: Slot] = [:]
    /// Idle slot ids, most recently parked last.
    package private(set) var idle: [PoolConnectionID] = []
    package private(set) var counts = Counts()
    /// Highest `counts.leased` seen.
    package private(set) var peakLeased = 0
    /// Time-weighted `counts.leased` over one-second windows: the source of `PoolMetrics.utilization`.
    package private(set) var leasedLevel = TimeWeightedLevel()
    private var nextID: PoolConnectionID = 0

    package init() {}

    package var isEmpty: Bool { slots.isEmpty }

    /// The slot `id`, or `nil` when it was removed.
    package subscript(id: PoolConnectionID) -> Slot? { slots[id] }

    // MARK: Transitions

    /// A new slot in state `connecting`; returns its id.
    package mutating func addConnecting(now: NIODeadline) -> PoolConnectionID {
        let id = nextID
        nextID += 1
        slots[id] = Slot(state: .connecting, connection: nil)
        account(id, from: nil, to: .connecting, now: now)
        return id
    }

    /// Stores the connection of a `connecting` slot (it stays `connecting` until the next transition).
    /// Returns `false` when `id` is not a connecting slot.
    package mutating func setConnection(_ connection: Connection, of id: PoolConnectionID) -> Bool {
        guard let index = slots.index(forKey: id), case .connecting = slots.values[index].state else { return false }
        slots.values[index].connection = connection
        return true
    }

    /// Moves slot `id` to `state`; returns its connection. The slot must exist.
    @inline(__always)
    @discardableResult
    package mutating func transition(_ id: PoolConnectionID, to state: State, now: NIODeadline) -> Connection? {
        guard let index = slots.index(forKey: id) else {
            preconditionFailure("pool slot \(id) does not exist")
        }
        let old = slots.values[index].state
        slots.values[index].state = state
        account(id, from: old, to: state, now: now)
        return slots.values[index].connection
    }

    /// Removes slot `id`; returns it, or `nil` when there is none.
    package mutating func remove(_ id: PoolConnectionID, now: NIODeadline) -> Slot? {
        guard let slot = slots.removeValue(forKey: id) else { return nil }
        account(id, from: slot.state, to: nil, now: now)
        return slot
    }

    /// Leases the most recently parked idle connection.
    @inline(__always)
    package mutating func leaseIdle(now: NIODeadline) -> (id: PoolConnectionID, connection: Connection)? {
        guard let id = idle.last else { return nil }
        guard let connection = transition(id, to: .leased(since: now, leakReported: false), now: now) else {
            preconditionFailure("idle pool slot \(id) has no connection")
        }
        return (id, connection)
    }

    /// The one place where counts, the idle stack, the leased level and the leased peak change.
    @inline(__always)
    private mutating func account(_ id: PoolConnectionID, from old: State?, to new: State?, now: NIODeadline) {
        var leasedChanged = false
        if let old {
            counts.add(old, -1)
            switch old {
            case .idle:
                if case .idle = new {} else { removeIdle(id) }
            case .leased:
                leasedChanged = true
            case .connecting, .pinging, .closing:
                break
            }
        }
        if let new {
            counts.add(new, 1)
            switch new {
            case .idle:
                if case .idle = old {} else { idle.append(id) }
            case .leased:
                leasedChanged = true
                if counts.leased > peakLeased { peakLeased = counts.leased }
            case .connecting, .pinging, .closing:
                break
            }
        }
        if leasedChanged { leasedLevel.set(counts.leased, at: now) }
    }

    @inline(__always)
    private mutating func removeIdle(_ id: PoolConnectionID) {
        if idle.last == id {
            idle.removeLast()
        } else if let index = idle.lastIndex(of: id) {
            idle.remove(at: index)
        } else {
            preconditionFailure("idle pool slot \(id) is not on the idle stack")
        }
    }

    // MARK: Queries

    /// Ids of the slots whose state matches, in no particular order.
    package func ids(where matches: (State) -> Bool) -> [PoolConnectionID] {
        var ids: [PoolConnectionID] = []
        for (id, slot) in slots where matches(slot.state) { ids.append(id) }
        return ids
    }
}

extension PoolConnectionSlots: Sendable where Connection: Sendable {}
extension PoolConnectionSlots.Slot: Sendable where Connection: Sendable {}
extension PoolConnectionSlots.State: Hashable, Sendable {}
