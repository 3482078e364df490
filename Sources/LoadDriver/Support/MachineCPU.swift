#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Machine-wide CPU time from `/proc/stat` (Linux; `nil` elsewhere), so a result says whether the whole machine was
/// busy or had CPU taken by its hypervisor (steal) while the load ran — what tells a slow phase of a shared CI
/// machine from a regression.
package struct MachineCPU: Sendable, Equatable {
    /// Jiffies by state, from the aggregate `cpu` line.
    package var busy: UInt64
    package var idle: UInt64
    package var steal: UInt64
    /// Monotonic nanoseconds when read (0: unknown, as for parsed text).
    package var at: Int64

    package init(busy: UInt64, idle: UInt64, steal: UInt64, at: Int64 = 0) {
        self.busy = busy
        self.idle = idle
        self.steal = steal
        self.at = at
    }

    /// The current counters, or `nil` when `/proc/stat` is unreadable.
    package static func now() -> MachineCPU? {
        guard let data = FileManager.default.contents(atPath: "/proc/stat") else { return nil }
        return Self(procStat: String(decoding: data, as: UTF8.self), at: nowNanos())
    }

    /// Parses the aggregate line `cpu  user nice system idle iowait irq softirq steal [guest guest_nice]`.
    /// Guest time is already inside user and nice, so it is not added again.
    package init?(procStat: String, at: Int64 = 0) {
        guard let line = procStat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 4 else { return nil }
        func field(_ i: Int) -> UInt64 { i < fields.count ? fields[i] : 0 }
        self.busy = field(0) + field(1) + field(2) + field(5) + field(6)
        self.idle = field(3) + field(4)
        self.steal = field(7)
        self.at = at
    }

    /// `/proc/stat`'s unit: jiffies per second (`USER_HZ`, 100 on Linux).
    static let ticksPerSecond: Double = {
        #if os(Linux)
        let hz = sysconf(Int32(_SC_CLK_TCK))
        return hz > 0 ? Double(hz) : 100
        #else
        return 100
        #endif
    }()

    /// Shares of the machine between `start` and `self`, in percent of `cpus` CPUs, or `nil` when no time passed.
    ///
    /// Idle and steal are measured exactly, but busy time is sampled at the scheduler tick, which a tickless kernel in
    /// a VM can miss under many short wake-ups. So when both readings carry their time, the elapsed wall time × `cpus`
    /// is the total and busy is what idle and steal leave of it; otherwise the counters' own sum is. A counter that
    /// went backwards (iowait is not monotonic) counts as zero, so the shares always lie in 0...100.
    package func usage(since start: MachineCPU, cpus: Int) -> MachineCPUReport? {
        func delta(_ now: UInt64, _ then: UInt64) -> Double { now > then ? Double(now - then) : 0 }
        let idle = delta(self.idle, start.idle), steal = delta(self.steal, start.steal)
        let counted = delta(self.busy, start.busy) + idle + steal
        var elapsed = 0.0
        if start.at > 0, self.at > start.at {
            elapsed = Double(self.at - start.at) / 1e9 * Self.ticksPerSecond * Double(max(cpus, 1))
        }
        let total = max(counted, elapsed)
        guard total > 0 else { return nil }
        let busy = max(0, total - idle - steal)
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
