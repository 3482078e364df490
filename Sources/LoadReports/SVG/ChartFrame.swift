import Foundation
import LoadDriver

/// A data point of a chart.
package struct ChartPoint: Sendable, Equatable {
    package var x: Double
    package var y: Double
    package init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// How the x axis is laid out and labelled.
package enum ChartXAxis: Sendable, Equatable {
    /// Seconds since load start (`0s`, `10s`, ...).
    case seconds
    /// HdrHistogram's percentile axis: x is already log10(1/(1-p)); ticks are labelled `90%`, `99%`, `99.9%` ...
    case nines
    /// A plain number axis with a unit suffix for tick labels.
    case linear(unit: String)
}

/// How y values are labelled on ticks and in tooltips.
package enum ChartValueFormat: Sendable, Equatable {
    case milliseconds, requestsPerSecond, count, fraction

    package func tick(_ v: Double) -> String {
        switch self {
        case .milliseconds: return ReportFormat.msTick(v)
        case .requestsPerSecond, .count: return ReportFormat.plain(v)
        case .fraction: return ReportFormat.plain(v * 100) + "%"
        }
    }

    package func value(_ v: Double) -> String {
        switch self {
        case .milliseconds: return ReportFormat.ms(v)
        case .requestsPerSecond: return ReportFormat.rate(v)
        case .count: return ReportFormat.grouped(v)
        case .fraction: return ReportFormat.percent(v)
        }
    }
}

/// A shaded x range, e.g. the warm-up seconds.
package struct ChartBand: Sendable, Equatable {
    package var from: Double
    package var to: Double
    package var label: String
    package init(from: Double, to: Double, label: String) {
        self.from = from
        self.to = to
        self.label = label
    }
}

/// A vertical line at an x value, e.g. a fault injected at a load second (a result's `events`).
package struct ChartMarker: Sendable, Equatable {
    package var at: Double
    package var label: String
    package init(at: Double, label: String) {
        self.at = at
        self.label = label
    }
}

/// A horizontal line at a y value, e.g. a threshold limit.
package struct ReferenceLine: Sendable, Equatable {
    package var value: Double
    package var label: String
    package var color: String
    package init(value: Double, label: String, color: String = ChartPalette.red) {
        self.value = value
        self.label = label
        self.color = color
    }
}

/// One legend entry.
package struct LegendEntry: Sendable, Equatable {
    package var name: String
    package var color: String
    package var dashed: Bool
    package var block: Bool
}

/// The shared geometry of every chart: plot area, scales, grid, axes, legend, bands, reference lines.
package struct ChartFrame {
    package static let marginLeft = 62.0
    package static let marginRight = 18.0
    package static let marginTop = 34.0
    package static let marginBottom = 42.0

    package let width: Double
    package let height: Double
    package let xAxis: ChartXAxis
    package let yFormat: ChartValueFormat
    package let x: LinearScale
    package let y: LinearScale
    /// Tick positions for the x axis (data coordinates) with their labels.
    package let xTicks: [(value: Double, label: String)]

    package var plotLeft: Double { Self.marginLeft }
    package var plotRight: Double { width - Self.marginRight }
    package var plotTop: Double { Self.marginTop }
    package var plotBottom: Double { height - Self.marginBottom }

    package init(width: Double, height: Double, xAxis: ChartXAxis, yFormat: ChartValueFormat,
                 xDomain: ClosedRange<Double>, yMax: Double) {
        self.width = width
        self.height = height
        self.xAxis = xAxis
        self.yFormat = yFormat
        let plotX = (start: Self.marginLeft, end: width - Self.marginRight)
        // y grows upwards: the range runs from the bottom pixel to the top pixel.
        let plotY = (start: height - Self.marginBottom, end: Self.marginTop)
        self.y = LinearScale(lower: 0, upper: yMax > 0 ? yMax * 1.04 : 1, range: plotY, tickCount: 5)
        switch xAxis {
        case .nines:
            let upper = max(1, xDomain.upperBound.rounded(.up))
            self.x = LinearScale(lower: 0, upper: upper, range: plotX, tickCount: Int(upper), niceUpper: false)
            self.xTicks = (0...Int(upper)).map { (Double($0), NinesAxis.label($0)) }
        case .seconds:
            let scale = LinearScale(lower: xDomain.lowerBound, upper: xDomain.upperBound, range: plotX, tickCount: 8)
            self.x = scale
            self.xTicks = scale.ticks.map { ($0, ReportFormat.plain($0) + "s") }
        case .linear(let unit):
            let scale = LinearScale(lower: xDomain.lowerBound, upper: xDomain.upperBound, range: plotX, tickCount: 6)
            self.x = scale
            self.xTicks = scale.ticks.map { ($0, ReportFormat.plain($0) + unit) }
        }
    }

    package func px(_ value: Double) -> Double { x.position(value) }
    package func py(_ value: Double) -> Double { y.position(value) }

    /// Opens the `<svg>` root with its accessible title.
    package func begin(_ svg: inout SVGWriter, id: String, title: String, empty: Bool) {
        svg.open("svg", [
            ("xmlns", "http://www.w3.org/2000/svg"),
            ("viewBox", "0 0 \(SVGWriter.number(width)) \(SVGWriter.number(height))"),
            ("width", SVGWriter.number(width)), ("height", SVGWriter.number(height)),
            ("role", "img"), ("class", "chart"), ("data-chart", id), ("data-empty", empty ? "true" : "false"),
            ("font-family", "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"),
        ])
        svg.element("title", [], text: title)
        svg.rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
    }

    /// Shaded bands behind the data.
    package func drawBands(_ svg: inout SVGWriter, _ bands: [ChartBand]) {
        for band in bands {
            let x0 = px(band.from), x1 = px(band.to)
            guard x1 > x0 else { continue }
            svg.rect(x: x0, y: plotTop, width: x1 - x0, height: plotBottom - plotTop, fill: "#f1f5f9",
                     attributes: [("class", "band")], tooltip: band.label)
            svg.label(band.label, x: x0 + 4, y: plotTop + 12, size: 10, fill: ChartPalette.gray)
        }
    }

    /// Grid lines, tick labels and axis titles.
    package func drawAxes(_ svg: inout SVGWriter, xTitle: String, yTitle: String) {
        for tick in y.ticks {
            let yy = py(tick)
            svg.line(x1: plotLeft, y1: yy, x2: plotRight, y2: yy, stroke: ChartPalette.grid)
            svg.label(yFormat.tick(tick), x: plotLeft - 6, y: yy + 4, anchor: "end", size: 10.5)
        }
        for tick in xTicks {
            let xx = px(tick.value)
            svg.line(x1: xx, y1: plotTop, x2: xx, y2: plotBottom, stroke: ChartPalette.grid)
            svg.label(tick.label, x: xx, y: plotBottom + 15, anchor: "middle", size: 10.5)
        }
        svg.line(x1: plotLeft, y1: plotBottom, x2: plotRight, y2: plotBottom, stroke: ChartPalette.axis)
        svg.line(x1: plotLeft, y1: plotTop, x2: plotLeft, y2: plotBottom, stroke: ChartPalette.axis)
        svg.label(xTitle, x: (plotLeft + plotRight) / 2, y: height - 6, anchor: "middle", size: 11, fill: "#334155")
        let cx = 13.0, cy = (plotTop + plotBottom) / 2
        svg.element("text", [
            ("x", SVGWriter.number(cx)), ("y", SVGWriter.number(cy)), ("text-anchor", "middle"), ("font-size", "11"),
            ("fill", "#334155"), ("transform", "rotate(-90 \(SVGWriter.number(cx)) \(SVGWriter.number(cy)))"),
        ], text: yTitle)
    }

    /// Dashed horizontal lines with a label at their right end.
    package func drawReferences(_ svg: inout SVGWriter, _ references: [ReferenceLine]) {
        for reference in references where reference.value.isFinite {
            let yy = py(reference.value)
            svg.line(x1: plotLeft, y1: yy, x2: plotRight, y2: yy, stroke: reference.color, width: 1.2, dash: "6 4", cls: "reference")
            svg.label(reference.label, x: plotRight - 4, y: yy - 4, anchor: "end", size: 10, fill: reference.color)
        }
    }

    /// Dotted vertical lines with their label at the top, staggered so neighbours stay readable.
    package func drawMarkers(_ svg: inout SVGWriter, _ markers: [ChartMarker]) {
        for (i, marker) in markers.enumerated() where marker.at.isFinite {
            let xx = px(marker.at)
            guard xx >= plotLeft, xx <= plotRight else { continue }
            svg.open("g", [("class", "marker"), ("data-marker", marker.label)])
            svg.element("title", [], text: "\(marker.label) at \(ReportFormat.plain(marker.at)) s")
            svg.line(x1: xx, y1: plotTop, x2: xx, y2: plotBottom, stroke: ChartPalette.pink, width: 1.2, dash: "2 3")
            svg.label(marker.label, x: xx + 3, y: plotTop + 24 + Double(i % 3) * 11, size: 9.5, fill: ChartPalette.pink)
            svg.end("g")
        }
    }

    /// The legend, in one row above the plot.
    package func drawLegend(_ svg: inout SVGWriter, _ entries: [LegendEntry]) {
        var x = plotLeft
        let y = 16.0
        for entry in entries {
            if entry.block {
                svg.rect(x: x, y: y - 8, width: 12, height: 10, fill: entry.color)
            } else {
                svg.line(x1: x, y1: y - 3, x2: x + 18, y2: y - 3, stroke: entry.color, width: 2.5, dash: entry.dashed ? "5 3" : nil)
            }
            let textX = x + (entry.block ? 16 : 22)
            svg.label(entry.name, x: textX, y: y + 1, size: 11.5, fill: "#1e293b")
            x = textX + Double(entry.name.count) * 6.6 + 16
        }
    }

    /// A centered message over an empty plot.
    package func drawMessage(_ svg: inout SVGWriter, _ message: String) {
        svg.label(message, x: (plotLeft + plotRight) / 2, y: (plotTop + plotBottom) / 2, anchor: "middle", size: 13,
                  fill: ChartPalette.gray, cls: "empty-message")
    }
}
