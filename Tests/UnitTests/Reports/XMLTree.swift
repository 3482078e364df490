import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A parsed XML element (enough to inspect reports without a browser).
final class XMLElementNode {
    let name: String
    let attributes: [String: String]
    var children: [XMLElementNode] = []
    var text = ""
    weak var parent: XMLElementNode?

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    /// Every descendant (depth first), self excluded.
    var descendants: [XMLElementNode] { children.flatMap { [$0] + $0.descendants } }

    func all(_ name: String) -> [XMLElementNode] { descendants.filter { $0.name == name } }

    func all(_ name: String, where predicate: (XMLElementNode) -> Bool) -> [XMLElementNode] {
        descendants.filter { $0.name == name && predicate($0) }
    }

    func hasClass(_ cls: String) -> Bool {
        (attributes["class"] ?? "").split(separator: " ").contains(Substring(cls))
    }

    /// Text of this element and its descendants.
    var allText: String { text + children.map(\.allText).joined() }
}

/// Parses XML with Foundation's `XMLParser`; throws with the parser's line and message when not well-formed.
enum XMLTree {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> XMLElementNode {
        let parser = XMLParser(data: Data(text.utf8))
        let delegate = Builder()
        parser.delegate = delegate
        guard parser.parse(), let root = delegate.root else {
            let line = parser.lineNumber, column = parser.columnNumber
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let context = line > 0 && line <= lines.count ? String(lines[line - 1].prefix(300)) : ""
            throw ParseError(description: "not well-formed XML at \(line):\(column): \(parser.parserError.map { "\($0)" } ?? "unknown error")\n\(context)")
        }
        return root
    }

    private final class Builder: NSObject, XMLParserDelegate {
        var root: XMLElementNode?
        var stack: [XMLElementNode] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let node = XMLElementNode(name: elementName, attributes: attributes)
            if let top = stack.last {
                node.parent = top
                top.children.append(node)
            } else {
                root = node
            }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}

/// The `<svg ...>...</svg>` fragments of a page, in order.
func svgFragments(in html: String) -> [String] {
    var fragments: [String] = []
    var rest = html[...]
    while let open = rest.range(of: "<svg "), let close = rest[open.lowerBound...].range(of: "</svg>") {
        fragments.append(String(rest[open.lowerBound..<close.upperBound]))
        rest = rest[close.upperBound...]
    }
    return fragments
}
