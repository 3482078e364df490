/// Samples the machine's and this process's CPU counters once a second during the load phase, so every second of the
/// time series says how busy the machine was and how much of that was this process: what tells a stall caused by
/// another process or a noisy neighbour from one caused by the code under test.
package enum CPUMonitor {
    package struct Sample: Sendable, Equatable {
        /// The second of the load phase this sample opens (it was due at load start + `second` s).
        package var second: Int
        /// Uptime ns when taken (late when the machine is saturated; intervals use the real times).
        package var at: Int64
        /// Machine-wide counters (`nil` where `/proc/stat` is unreadable).
        package var machine: MachineCPU?
        /// This process's user + system CPU seconds so far.
        package var processSeconds: Double

        package init(second: Int, at: Int64, machine: MachineCPU?, processSeconds: Double) {
            self.second = second
            self.at = at
            self.machine = machine
            self.processSeconds = processSeconds
        }
    }

    /// Counters now, for the second `second`.
    static func sample(second: Int) -> Sample {
        let cpu = ProcessResources.cpuTime()
        return Sample(second: second, at: nowNanos(), machine: MachineCPU.now(), processSeconds: cpu.user + cpu.system)
    }

    /// Samples at `start`, `start` + 1 s, ... until cancelled, then once more (closing the last, partial second).
    static func sampleEverySecond(from start: Int64) async -> [Sample] {
        var samples: [Sample] = []
        var second = 0
        while !Task.isCancelled {
            let wait = start + Int64(second) * 1_000_000_000 - nowNanos()
            if wait > 0 {
                do { try await Task.sleep(nanoseconds: UInt64(wait)) } catch { break }
            }
            samples.append(sample(second: second))
            second += 1
        }
        samples.append(sample(second: second))
        return samples
    }

    /// One second's CPU: the machine's shares and this process's CPU in percent of one core.
    package struct Second: Sendable, Equatable {
        package var machine: MachineCPUReport?
        package var cpuPercent: Double
    }

    /// Per second of the load phase, the CPU used between the sample that opens it and the next sample. Intervals
    /// shorter than 100 ms (a final sample right after the last regular one) are too coarse for `/proc/stat`'s
    /// 10 ms ticks and are skipped.
    package static func perSecond(_ samples: [Sample], cpus: Int) -> [Int: Second] {
        var result: [Int: Second] = [:]
        for (a, b) in zip(samples, samples.dropFirst()) where b.at - a.at >= 100_000_000 && a.second >= 0 {
            var machine: MachineCPUReport? = nil
            if let m0 = a.machine, let m1 = b.machine { machine = m1.usage(since: m0, cpus: cpus) }
            let cpuPercent = max(0, b.processSeconds - a.processSeconds) / (Double(b.at - a.at) / 1e9) * 100
            result[a.second] = Second(machine: machine, cpuPercent: cpuPercent)
        }
        return result
    }
}
