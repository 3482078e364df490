import Foundation
import LoadDriver

/// One line of a ``LineChart``. Points are grouped in segments: a gap (e.g. a second with no responses) splits the line.
package struct ChartSeries: Sendable, Equatable {
    package var name: String
    package var color: String
    package var segments: [[ChartPoint]]
    package var dashed: Bool
    package var lineWidth: Double
    /// Draw a dot at every point (for sparse series such as capacity steps).
    package var markers: Bool

    package init(name: String, color: String, segments: [[ChartPoint]], dashed: Bool = false, lineWidth: Double = 2, markers: Bool = false) {
        self.name = name
        self.color = color
        self.segments = segments.filter { !$0.isEmpty }
        self.dashed = dashed
        self.lineWidth = lineWidth
        self.markers = markers
    }

    package init(name: String, color: String, points: [ChartPoint], dashed: Bool = false, lineWidth: Double = 2, markers: Bool = false) {
        self.init(name: name, color: color, segments: [points], dashed: dashed, lineWidth: lineWidth, markers: markers)
    }

    package var points: [ChartPoint] { segments.flatMap { $0 } }
    package var isEmpty: Bool { segments.allSatisfy(\.isEmpty) }
}

/// A line chart rendered as a standalone, well-formed `<svg>` element.
package struct LineChart: Sendable {
    /// Stable identifier (`data-chart`), e.g. `throughput`.
    package var id: String
    package var title: String
    package var xTitle: String
    package var yTitle: String
    package var xAxis: ChartXAxis
    package var yFormat: ChartValueFormat
    package var series: [ChartSeries]
    package var references: [ReferenceLine]
    package var bands: [ChartBand]
    /// Vertical lines at x values (events of the run).
    package var markers: [ChartMarker]
    /// Shown instead of lines when no series has a point.
    package var emptyMessage: String
    package var width: Double
    package var height: Double

    package init(
        id: String, title: String, xTitle: String, yTitle: String, xAxis: ChartXAxis = .seconds,
        yFormat: ChartValueFormat, series: [ChartSeries], references: [ReferenceLine] = [], bands: [ChartBand] = [],
        markers: [ChartMarker] = [], emptyMessage: String = "no data", width: Double = 660, height: Double = 300
    ) {
        self.id = id
        self.title = title
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.xAxis = xAxis
        self.yFormat = yFormat
        self.series = series
        self.references = references
        self.bands = bands
        self.markers = markers
        self.emptyMessage = emptyMessage
        self.width = width
        self.height = height
    }

    package var isEmpty: Bool { series.allSatisfy(\.isEmpty) }

    package func render() -> String {
        let points = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        let xs = points.map(\.x) + bands.flatMap { [$0.from, $0.to] }
        let xLower = xs.min() ?? 0, xUpper = xs.max() ?? 1
        let yMax = (points.map(\.y) + references.map(\.value).filter(\.isFinite)).max() ?? 1
        let frame = ChartFrame(
            width: width, height: height, xAxis: xAxis, yFormat: yFormat,
            xDomain: min(xLower, xAxis == .nines ? 0 : xLower)...max(xUpper, xLower + 1), yMax: yMax)

        var svg = SVGWriter()
        frame.begin(&svg, id: id, title: title, empty: points.isEmpty)
        frame.drawBands(&svg, bands)
        frame.drawAxes(&svg, xTitle: xTitle, yTitle: yTitle)
        if points.isEmpty {
            frame.drawMessage(&svg, emptyMessage)
        }
        frame.drawReferences(&svg, references)
        frame.drawMarkers(&svg, markers)
        for s in series where !s.isEmpty {
            var d = ""
            for segment in s.segments {
                for (i, p) in segment.enumerated() where p.x.isFinite && p.y.isFinite {
                    d += (i == 0 ? "M" : "L") + SVGWriter.number(frame.px(p.x)) + "," + SVGWriter.number(frame.py(p.y)) + " "
                }
            }
            var attributes: [(String, String)] = [
                ("d", d.trimmingCharacters(in: .whitespaces)), ("fill", "none"), ("stroke", s.color),
                ("stroke-width", SVGWriter.number(s.lineWidth)), ("stroke-linejoin", "round"), ("stroke-linecap", "round"),
                ("class", "series"), ("data-series", s.name), ("data-points", String(s.points.count)),
            ]
            if s.dashed { attributes.append(("stroke-dasharray", "6 4")) }
            svg.open("path", attributes)
            svg.element("title", [], text: s.name)
            svg.end("path")
            let single = s.segments.allSatisfy { $0.count == 1 }
            if s.markers || single {
                for p in s.points where p.x.isFinite && p.y.isFinite {
                    svg.open("circle", [
                        ("cx", SVGWriter.number(frame.px(p.x))), ("cy", SVGWriter.number(frame.py(p.y))), ("r", "3.5"),
                        ("fill", s.color), ("stroke", "#ffffff"), ("stroke-width", "1"),
                    ])
                    svg.element("title", [], text: "\(s.name): \(yFormat.value(p.y)) at \(xDescription(p.x))")
                    svg.end("circle")
                }
            }
        }
        frame.drawLegend(&svg, series.map { LegendEntry(name: $0.name, color: $0.color, dashed: $0.dashed, block: false) })
        svg.end("svg")
        return svg.text
    }

    private func xDescription(_ x: Double) -> String {
        switch xAxis {
        case .seconds: return ReportFormat.plain(x) + " s"
        case .nines: return ReportFormat.percent(1 - pow(10, -x))
        case .linear(let unit): return ReportFormat.plain(x) + unit
        }
    }
}
