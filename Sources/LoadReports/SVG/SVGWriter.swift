import Foundation
import LoadDriver

/// Appends SVG elements to a string. Every attribute value and text node is escaped, every number is finite and
/// printed with at most two decimals, so the output is always well-formed XML.
package struct SVGWriter {
    package private(set) var text = ""

    package init() {}

    /// `12.35` — never `nan`/`inf` (those become 0).
    package static func number(_ v: Double) -> String {
        guard v.isFinite else { return "0" }
        let rounded = (v * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int64(rounded)) }
        return String(format: "%.2f", rounded)
    }

    package mutating func raw(_ s: String) {
        text += s
    }

    /// `<name a="v" ...>` (or self-closing when `close`).
    package mutating func open(_ name: String, _ attributes: [(String, String)], close: Bool = false) {
        text += "<" + name
        for (key, value) in attributes {
            text += " " + key + "=\"" + Markup.escape(value) + "\""
        }
        text += close ? "/>" : ">"
    }

    package mutating func end(_ name: String) {
        text += "</" + name + ">"
    }

    package mutating func element(_ name: String, _ attributes: [(String, String)], text content: String) {
        self.open(name, attributes)
        text += Markup.escape(content)
        self.end(name)
    }

    package mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1, dash: String? = nil, cls: String? = nil) {
        var attributes = [("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)), ("y2", Self.number(y2)),
                          ("stroke", stroke), ("stroke-width", Self.number(width))]
        if let dash { attributes.append(("stroke-dasharray", dash)) }
        if let cls { attributes.append(("class", cls)) }
        self.open("line", attributes, close: true)
    }

    package mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, attributes extra: [(String, String)] = [], tooltip: String? = nil) {
        let attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(max(0, width))),
                          ("height", Self.number(max(0, height))), ("fill", fill)] + extra
        if let tooltip {
            self.open("rect", attributes)
            self.element("title", [], text: tooltip)
            self.end("rect")
        } else {
            self.open("rect", attributes, close: true)
        }
    }

    package mutating func label(_ content: String, x: Double, y: Double, anchor: String = "start", size: Double = 11, fill: String = "#475569", weight: String? = nil, cls: String? = nil) {
        var attributes = [("x", Self.number(x)), ("y", Self.number(y)), ("text-anchor", anchor),
                          ("font-size", Self.number(size)), ("fill", fill)]
        if let weight { attributes.append(("font-weight", weight)) }
        if let cls { attributes.append(("class", cls)) }
        self.element("text", attributes, text: content)
    }
}

/// The colors used by every chart (readable on white, distinguishable for common color blindness where possible).
package enum ChartPalette {
    package static let blue = "#2563eb"
    package static let orange = "#ea580c"
    package static let red = "#dc2626"
    package static let green = "#16a34a"
    package static let purple = "#7c3aed"
    package static let teal = "#0d9488"
    package static let gray = "#64748b"
    package static let lightGray = "#94a3b8"
    package static let amber = "#d97706"
    package static let pink = "#db2777"
    package static let grid = "#e2e8f0"
    package static let axis = "#94a3b8"

    /// Stable colors for error kinds.
    package static func color(forErrorKind kind: String) -> String {
        switch kind {
        case "connectRefused": return purple
        case "connectionReset": return pink
        case "timeout": return amber
        case "http4xx": return teal
        case "http5xx": return red
        case "unexpectedBody": return blue
        default: return gray
        }
    }
}
