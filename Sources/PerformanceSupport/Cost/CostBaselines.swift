import Foundation

/// The cost gate's baselines, one file per machine in one directory (default `Baselines/cost/`).
///
/// A time figure divided by a reference request measured beside it cancels what the machine does at that moment, not
/// what the machine is: the ratio of two code paths still depends on the CPU model (by 25% between two 2-core VMs
/// of one kind: `docs/measurements.md`). So a baseline's times are compared only on the machine it was recorded on, named by ``CostReport/machine`` (`<cpu model>, <n> cores`); a machine with no
/// baseline of its own is an error that says how to record one, never a silent pass.
public enum CostBaselines {
    /// The file name of `machine`'s baseline: its lower-case letters and digits, runs of anything else as one `-`,
    /// then `.json` (`"AMD EPYC, 2 cores"` → `amd-epyc-2-cores.json`).
    public static func fileName(forMachine machine: String) -> String {
        var slug = ""
        for scalar in machine.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                slug.unicodeScalars.append(scalar)
            } else if !slug.isEmpty, !slug.hasSuffix("-") {
                slug.append("-")
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return (slug.isEmpty ? "unknown-machine" : slug) + ".json"
    }

    /// The baseline file for `machine`: `path` itself when it names a `.json` file, else the machine's file in the
    /// directory `path`.
    public static func file(at path: String, machine: String) -> String {
        if path.hasSuffix(".json") { return path }
        return URL(fileURLWithPath: path).appendingPathComponent(fileName(forMachine: machine)).path
    }

    /// The machines that have a baseline in `directory`, as their reports name them, sorted.
    public static func recordedMachines(in directory: String) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().map { file in
            let url = URL(fileURLWithPath: directory).appendingPathComponent(file)
            let report = (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(CostReport.self, from: $0) }
            return report?.machine ?? "\(file) (not a cost report)"
        }
    }
}
