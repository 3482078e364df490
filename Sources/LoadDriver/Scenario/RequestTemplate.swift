import Foundation

/// A generic HTTP request with `{{variable}}` placeholders filled from the sending user's variables.
public struct RequestTemplate: Codable, Sendable, Equatable {
    /// Short endpoint name used in per-endpoint statistics and thresholds (`verify.p(99) < 50ms`).
    public var name: String
    /// HTTP method, e.g. `GET`. Default `GET`.
    public var method: String
    /// Path and query, may contain placeholders.
    public var path: String
    /// Extra request headers (values may contain placeholders). `Host`, `Content-Length` and (with a body)
    /// `Content-Type: application/json` are added automatically unless given here.
    public var headers: [String: String]
    /// Optional body, may contain placeholders. Default `nil`.
    public var body: String?
    /// Status codes counted as success. `nil` (default) means any 2xx.
    public var expectedStatus: [Int]?
    /// JSON string fields of a successful response stored into user variables (e.g. login's `token`).
    public var captures: [Capture]

    public init(
        name: String,
        method: String = "GET",
        path: String,
        headers: [String: String] = [:],
        body: String? = nil,
        expectedStatus: [Int]? = nil,
        captures: [Capture] = []
    ) {
        self.name = name
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.expectedStatus = expectedStatus
        self.captures = captures
    }

    /// Whether `status` counts as success for this template.
    public func isExpected(status: Int) -> Bool {
        if let expected = self.expectedStatus { return expected.contains(status) }
        return (200..<300).contains(status)
    }
}

/// Stores a top-level (or dotted nested) JSON string field of the response body into a user variable.
public struct Capture: Codable, Sendable, Equatable {
    /// The variable to set, e.g. `token`.
    public var variable: String
    /// The JSON field to read, e.g. `token` or `data.token`.
    public var jsonField: String
    public init(variable: String, jsonField: String) {
        self.variable = variable
        self.jsonField = jsonField
    }
}

/// A string with `{{name}}` placeholders, split once into literal and variable parts so rendering per request is a
/// handful of appends.
package struct CompiledTemplateString: Sendable, Equatable {
    package enum Part: Sendable, Equatable {
        case literal(String)
        case variable(String)
    }

    package let parts: [Part]
    package var isConstant: Bool { !self.parts.contains { if case .variable = $0 { return true } else { return false } } }

    package init(_ source: String) {
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            parts.append(.variable(name))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.parts = parts
    }

    /// Renders with `lookup`; unknown variables render as the empty string.
    package func render(_ lookup: (String) -> String?) -> String {
        if self.parts.count == 1, case .literal(let s) = self.parts[0] { return s }
        var out = ""
        for part in self.parts {
            switch part {
            case .literal(let s): out += s
            case .variable(let name): out += lookup(name) ?? ""
            }
        }
        return out
    }

    package func render(_ variables: [String: String]) -> String {
        self.render { variables[$0] }
    }
}

