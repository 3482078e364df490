// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "auth-perf-suite",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RedisPool", targets: ["RedisPool"]),
        .library(name: "AuthServiceUnderTest", targets: ["AuthServiceUnderTest"]),
        .library(name: "LoadDriver", targets: ["LoadDriver"]),
        .library(name: "LoadReports", targets: ["LoadReports"]),
        .executable(name: "auth-server", targets: ["auth-server"]),
        .executable(name: "loaddriver", targets: ["loaddriver"]),
        .executable(name: "cost-gate", targets: ["cost-gate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // The only module that touches hiredis.
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "RedisPool",
            dependencies: [
                "CHiredis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AuthServiceUnderTest",
            dependencies: [
                "RedisPool",
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                // PBKDF2 (KDF.Insecure.PBKDF2, BoringSSL-backed); the product is named _CryptoExtras in 3.x and 4.x.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Linux's epoll for LoadDriver's TickPoller (Swift's Glibc module leaves it out).
        .systemLibrary(name: "CEpoll"),
        // Speaks HTTP only: must not depend on RedisPool or AuthServiceUnderTest.
        .target(
            name: "LoadDriver",
            dependencies: [
                "CEpoll",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),
        // The auth service as the load driver sees it: its requests, the seed scenarios and their thresholds, named
        // mixes, its pool-metrics path. HTTP only, like LoadDriver.
        .target(
            name: "AuthScenarios",
            dependencies: ["LoadDriver"],
            swiftSettings: swiftSettings
        ),
        // HTML (with SVG charts), Markdown, .hgrm and CSV output of LoadDriver's results; depends on the results only.
        .target(
            name: "LoadReports",
            dependencies: [
                "LoadDriver",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "auth-server",
            dependencies: [
                "AuthServiceUnderTest",
                "RedisPool",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The `loaddriver` CLI. Its folder differs from `Sources/LoadDriver` by more than case, so the package checks
        // out on case-insensitive file systems.
        .executableTarget(
            name: "loaddriver",
            dependencies: [
                "LoadDriver",
                "LoadReports",
                "AuthScenarios",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/LoadDriverCLI",
            swiftSettings: swiftSettings
        ),
        // `scripts/bench pool` client: GET round trips through RedisConnectionPool.command.
        .executableTarget(
            name: "redis-pool-bench",
            dependencies: [
                "RedisPool",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // `scripts/cost`: per-request allocations, CPU and Redis commands of every endpoint, gated against Baselines/.
        .executableTarget(
            name: "cost-gate",
            dependencies: [
                "PerformanceSupport",
                "AuthServiceUnderTest",
                "RedisPool",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/CostGate",
            swiftSettings: swiftSettings
        ),
        // Test support shared by the test targets: embedded redis-server, in-process boot helpers.
        .target(
            name: "PerformanceSupport",
            dependencies: [
                "RedisPool",
                "AuthServiceUnderTest",
                "LoadDriver",
                "AuthScenarios",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Pure tests: no redis-server, no child process, no sockets; they run in parallel.
        .testTarget(
            name: "UnitTests",
            dependencies: [
                "RedisPool",
                "AuthServiceUnderTest",
                "LoadDriver",
                "LoadReports",
                "AuthScenarios",
                "PerformanceSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // Tests that start redis-server, executables, servers or load; run one at a time (`--no-parallel`).
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "RedisPool",
                "AuthServiceUnderTest",
                "LoadDriver",
                "AuthScenarios",
                "PerformanceSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PerformanceTests",
            dependencies: [
                "RedisPool",
                "AuthServiceUnderTest",
                "LoadDriver",
                "AuthScenarios",
                "PerformanceSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
