#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// This process's memory, for checks that a fault keeps it bounded.
public enum ProcessMemory {
    /// Resident set size in bytes (Linux `/proc/self/statm`), or `nil` where it cannot be read.
    public static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
