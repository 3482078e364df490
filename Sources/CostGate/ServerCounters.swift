#if canImport(Glibc)
import Glibc
#endif
import Foundation
import PerformanceSupport

/// Reads a process's cost counters from outside: its allocation count (the shim's shared file) and its threads' CPU.
struct ServerCounters {
    let pid: pid_t
    /// The `malloc-counter` shim's file, `nil` when the server runs without it.
    let allocationFile: String?

    /// Heap allocations so far: the first 8 bytes of the shim's file.
    func allocations() throws(ProbeError) -> UInt64? {
        guard let allocationFile else { return nil }
        let fd = open(allocationFile, O_RDONLY)
        guard fd >= 0 else { throw ProbeError("cannot open the allocation counter \(allocationFile)") }
        defer { close(fd) }
        var value: UInt64 = 0
        guard pread(fd, &value, 8, 0) == 8 else { throw ProbeError("cannot read the allocation counter \(allocationFile)") }
        return value
    }

    /// CPU time of every thread of the process so far, ns: the sum of the first field of
    /// `/proc/<pid>/task/<tid>/schedstat` (nanosecond resolution, unlike `/proc/<pid>/stat`'s clock ticks).
    func cpuNanoseconds() throws(ProbeError) -> UInt64 {
        let taskDirectory = "/proc/\(pid)/task"
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: taskDirectory) else {
            throw ProbeError("process \(pid) is gone (no \(taskDirectory))")
        }
        var total: UInt64 = 0
        for task in tasks {
            guard let text = try? String(contentsOfFile: "\(taskDirectory)/\(task)/schedstat", encoding: .utf8),
                let first = text.split(separator: " ").first, let nanoseconds = UInt64(first)
            else { continue }  // a thread that ended between the listing and the read
            total += nanoseconds
        }
        return total
    }
}

/// The process's threads' CPU read per request: each thread's schedstat file kept open and read with `pread`, so
/// a reading costs a few µs of the probe's time and none of the server's.
final class ThreadCPUReader {
    private var descriptors: [Int32] = []
    /// `/proc/PID/task/TID/stat` of the same threads, for their run state.
    private var states: [Int32] = []

    init(pid: pid_t) throws(ProbeError) {
        let taskDirectory = "/proc/\(pid)/task"
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: taskDirectory) else {
            throw ProbeError("process \(pid) is gone (no \(taskDirectory))")
        }
        for task in tasks {
            let fd = open("\(taskDirectory)/\(task)/schedstat", O_RDONLY)
            if fd >= 0 { descriptors.append(fd) }
            let stat = open("\(taskDirectory)/\(task)/stat", O_RDONLY)
            if stat >= 0 { states.append(stat) }
        }
    }

    deinit { for fd in descriptors + states { close(fd) } }

    /// Waits (at most `limit` µs) until none of the threads is running. A thread's schedstat runtime is brought up
    /// to date when it stops running: read while the server still finishes a request (after its answer was sent),
    /// that request's CPU would be counted in the next reading instead.
    func waitUntilIdle(limit: Int = 2_000) {
        var buffer = [UInt8](repeating: 0, count: 512)
        var waited = 0
        while waited < limit {
            var running = false
            for fd in states {
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 512, 0) }
                guard n > 0, let close = buffer[0..<n].lastIndex(of: UInt8(ascii: ")")), close + 2 < n else { continue }
                if buffer[close + 2] == UInt8(ascii: "R") {
                    running = true
                    break
                }
            }
            if !running { return }
            usleep(20)
            waited += 20
        }
    }

    /// CPU ns of the threads that existed when the reader was made.
    func nanoseconds() -> UInt64 {
        var total: UInt64 = 0
        var buffer = [UInt8](repeating: 0, count: 64)
        for fd in descriptors {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 64, 0) }
            guard n > 0 else { continue }
            var value: UInt64 = 0
            for byte in buffer[0..<n] {
                guard byte >= 48 && byte <= 57 else { break }
                value = value * 10 + UInt64(byte - 48)
            }
            total += value
        }
        return total
    }
}

/// Median of a non-empty sample.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// A monotonic clock reading in ns.
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
