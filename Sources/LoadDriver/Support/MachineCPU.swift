#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Machine-wide CPU time from `/proc/stat` (Linux; `nil` elsewhere), so a result says whether the whole machine was
/// busy or had CPU taken by its hypervisor (steal) while the load ran — what tells a slow phase of a shared CI
/// machine from a regression.
package struct MachineCPU: Sendable, Equatable {
    /// Jiffies by state, from the aggregate `cpu` line.
    package var busy: UInt64
    package var idle: UInt64
    package var steal: UInt64
    package var total: UInt64 { busy + idle + steal }

    package init(busy: UInt64, idle: UInt64, steal: UInt64) {
        self.busy = busy
        self.idle = idle
        self.steal = steal
    }

    /// The current counters, or `nil` when `/proc/stat` is unreadable.
    package static func now() -> MachineCPU? {
        guard let data = FileManager.default.contents(atPath: "/proc/stat") else { return nil }
        return Self(procStat: String(decoding: data, as: UTF8.self))
    }

    /// Parses the aggregate line `cpu  user nice system idle iowait irq softirq steal [guest guest_nice]`.
    /// Guest time is already inside user and nice, so it is not added again.
    package init?(procStat: String) {
        guard let line = procStat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 4 else { return nil }
        func at(_ i: Int) -> UInt64 { i < fields.count ? fields[i] : 0 }
        self.busy = at(0) + at(1) + at(2) + at(5) + at(6)
        self.idle = at(3) + at(4)
        self.steal = at(7)
    }

    /// Shares of the machine between `start` and `self`, in percent of all its CPUs, or `nil` when no time passed.
    ///
    /// Each state's delta is taken on its own and a counter that went backwards counts as zero: the kernel does not
    /// promise monotonic iowait (and so idle), so the shares always lie in 0...100 and sum to 100.
    package func usage(since start: MachineCPU, cpus: Int) -> MachineCPUReport? {
        func delta(_ now: UInt64, _ then: UInt64) -> Double { now > then ? Double(now - then) : 0 }
        let busy = delta(self.busy, start.busy), idle = delta(self.idle, start.idle)
        let steal = delta(self.steal, start.steal)
        let total = busy + idle + steal
        guard total > 0 else { return nil }
        return MachineCPUReport(cpus: cpus, busyPercent: busy / total * 100, stealPercent: steal / total * 100)
    }
}

/// How the whole machine's CPUs were used during the load phase (Linux `/proc/stat`).
public struct MachineCPUReport: Codable, Sendable, Equatable {
    /// CPUs the machine has.
    public var cpus: Int
    /// Time all CPUs spent running anything (this process, Redis, other tenants), in percent of all CPUs.
    public var busyPercent: Double
    /// Time the hypervisor took from this machine's CPUs, in percent of all CPUs; a few percent or more means a
    /// noisy neighbour, and latency figures from that run deserve less trust.
    public var stealPercent: Double

    public init(cpus: Int, busyPercent: Double, stealPercent: Double) {
        self.cpus = cpus
        self.busyPercent = busyPercent
        self.stealPercent = stealPercent
    }
}
