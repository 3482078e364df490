import Foundation
import LoadDriver

/// One stacked layer of a ``StackedBarChart``: a value per x slot.
package struct BarLayer: Sendable, Equatable {
    package var name: String
    package var color: String
    /// x slot (e.g. second) → value.
    package var values: [Int: Double]
    package init(name: String, color: String, values: [Int: Double]) {
        self.name = name
        self.color = color
        self.values = values
    }

    package var total: Double { values.values.reduce(0, +) }
}

/// Stacked bars over integer x slots (one per second), rendered as a standalone `<svg>`.
package struct StackedBarChart: Sendable {
    package var id: String
    package var title: String
    package var xTitle: String
    package var yTitle: String
    package var yFormat: ChartValueFormat
    /// The x slots shown, e.g. `0..<60` seconds, even when some have no bars.
    package var slots: Range<Int>
    package var layers: [BarLayer]
    package var bands: [ChartBand]
    /// Vertical lines at x values (events of the run).
    package var markers: [ChartMarker]
    /// Shown over the axes when every layer is empty.
    package var emptyMessage: String
    package var width: Double
    package var height: Double

    package init(
        id: String, title: String, xTitle: String, yTitle: String, yFormat: ChartValueFormat = .count, slots: Range<Int>,
        layers: [BarLayer], bands: [ChartBand] = [], markers: [ChartMarker] = [], emptyMessage: String = "no data",
        width: Double = 660, height: Double = 300
    ) {
        self.id = id
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.yFormat = yFormat
        self.slots = slots
        self.layers = layers
        self.bands = bands
        self.markers = markers
        self.emptyMessage = emptyMessage
        self.width = width
        self.height = height
    }

    package var isEmpty: Bool { layers.allSatisfy { $0.total <= 0 } }

    package func render() -> String {
        let upper = max(slots.upperBound, slots.lowerBound + 1)
        var stackMax = 0.0
        for slot in slots {
            stackMax = max(stackMax, layers.reduce(0) { $0 + max(0, $1.values[slot] ?? 0) })
        }
        let frame = ChartFrame(
            width: width, height: height, xAxis: .seconds, yFormat: yFormat,
            xDomain: Double(slots.lowerBound)...Double(upper), yMax: stackMax > 0 ? stackMax : 1)
        var svg = SVGWriter()
        frame.begin(&svg, id: id, title: title, empty: isEmpty)
        frame.drawBands(&svg, bands)
        frame.drawAxes(&svg, xTitle: xTitle, yTitle: yTitle)
        if isEmpty {
            frame.drawMessage(&svg, emptyMessage)
        }
        for slot in slots {
            var base = 0.0
            let x0 = frame.px(Double(slot)), x1 = frame.px(Double(slot + 1))
            let barWidth = max(1, (x1 - x0) * 0.8)
            for layer in layers {
                let v = layer.values[slot] ?? 0
                guard v > 0 else { continue }
                let yTop = frame.py(base + v), yBottom = frame.py(base)
                svg.rect(
                    x: x0 + (x1 - x0 - barWidth) / 2, y: yTop, width: barWidth, height: yBottom - yTop, fill: layer.color,
                    attributes: [("class", "bar"), ("data-series", layer.name)],
                    tooltip: "\(layer.name): \(yFormat.value(v)) in second \(slot)")
                base += v
            }
        }
        frame.drawMarkers(&svg, markers)
        frame.drawLegend(&svg, layers.filter { $0.total > 0 }.map { LegendEntry(name: $0.name, color: $0.color, dashed: false, block: true) })
        svg.end("svg")
        return svg.text
    }
}
