// swift-tools-version: 6.0
// Trivial reference servers for `scripts/bench driver`: a Hummingbird "hello" route, and (`--raw`) a bare SwiftNIO
// HTTP/1.1 server with a canned response — the cheapest target, for pushing the driver's open-model rate.
import PackageDescription

let package = Package(
    name: "hello-server",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", .upToNextMinor(from: "2.28.0")),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        // The suite itself, for `--raw --in-process-driver`: the LoadDriver in the server's own process.
        .package(name: "auth-perf-suite", path: "../../.."),
    ],
    targets: [
        .executableTarget(
            name: "hello-server",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "LoadDriver", package: "auth-perf-suite"),
            ]
        )
    ]
)
