import Foundation
import Testing

/// The package checks out on case-insensitive file systems (macOS's default): no two paths differ only by case.
@Suite("Package layout")
struct PackageLayoutTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..")
        .standardizedFileURL

    @Test func noTwoPathsDifferOnlyByCase() throws {
        var seen: [String: String] = [:]
        var clashes: [String] = []
        for top in ["Sources", "Tests", "scripts", "docs", "Baselines"] {
            let base = Self.root.appendingPathComponent(top)
            guard let walker = FileManager.default.enumerator(atPath: base.path) else { continue }
            while let relative = walker.nextObject() as? String {
                let path = top + "/" + relative
                if let other = seen[path.lowercased()], other != path { clashes.append("\(other) ~ \(path)") }
                seen[path.lowercased()] = path
            }
        }
        #expect(seen.count > 100, "walked \(seen.count) paths under \(Self.root.path)")
        #expect(clashes.isEmpty, "paths that differ only by case: \(clashes)")
    }
}
