// swift-tools-version: 6.0
// A trivial Hummingbird "hello" server: the reference target of `scripts/bench driver`.
import PackageDescription

let package = Package(
    name: "hello-server",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", .upToNextMinor(from: "2.28.0"))
    ],
    targets: [
        .executableTarget(
            name: "hello-server",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")]
        )
    ]
)
