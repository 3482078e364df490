import Foundation

/// Flattens the numeric fields of a JSON document: `{"a": 1, "b": {"c": 2}}` → `["a": 1, "b.c": 2]`.
/// Booleans become 0/1; strings, arrays and nulls are skipped.
public enum JSONFlattening {
    public static func numericFields(of data: Data) -> [String: Double]? {
        guard let object = try? JSONSerialization.jsonObject(with: data) else { return nil }
        var out: [String: Double] = [:]
        Self.flatten(object, prefix: "", into: &out)
        return out
    }

    static func flatten(_ value: Any, prefix: String, into out: inout [String: Double]) {
        if let dict = value as? [String: Any] {
            for (k, v) in dict { Self.flatten(v, prefix: prefix.isEmpty ? k : prefix + "." + k, into: &out) }
        } else if let n = value as? NSNumber, !prefix.isEmpty {
            out[prefix] = n.doubleValue
        }
    }
}
