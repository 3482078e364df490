// Benchmark client for `scripts/bench pool`: N GET round trips through `RedisConnectionPool.command` from C
// concurrent tasks; prints `pool_ops_per_sec: <x>` and a JSON line with the pool's metrics.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOPosix
import RedisPool

struct Options {
    var host = "127.0.0.1"
    var port = 6379
    var requests = 200_000
    var concurrency = 50
    var connections = 50
    var threads = 1
    var key = "bench:key"
    var executor = "default"  // default | nio
    var leaseOnly = false

    static let usage = """
        Usage: redis-pool-bench [--host H] [--port P] [--requests N] [--concurrency C] [--connections M]
                                [--threads T] [--key K] [--executor default|nio]
          --requests     GET round trips in the measured run (default 200000; a 10% warm-up runs first)
          --concurrency  concurrent Swift tasks calling pool.command(["GET", key]) (default 50)
          --connections  pool maximumConnections (default 50)
          --threads      NIO event-loop threads for the connections (default 1)
          --executor     nio: run Swift tasks on the NIO event loops (global executor); default: Swift's pool
          --lease-only   measure the pool alone: withConnection { _ in } with no Redis command
        """

    init(_ arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        func value(_ flag: String) throws -> String {
            guard let value = iterator.next() else { throw UsageError(message: "\(flag) needs a value") }
            return value
        }
        func int(_ flag: String) throws -> Int {
            guard let number = Int(try value(flag)), number > 0 else { throw UsageError(message: "\(flag) needs a positive integer") }
            return number
        }
        while let argument = iterator.next() {
            switch argument {
            case "--host": host = try value(argument)
            case "--port": port = try int(argument)
            case "--requests", "-n": requests = try int(argument)
            case "--concurrency", "-c": concurrency = try int(argument)
            case "--connections": connections = try int(argument)
            case "--threads": threads = try int(argument)
            case "--key": key = try value(argument)
            case "--executor": executor = try value(argument)
            case "--lease-only": leaseOnly = true
            case "--help", "-h": throw UsageError(message: nil)
            default: throw UsageError(message: "unknown argument \(argument)")
            }
        }
    }
}

struct UsageError: Error { var message: String? }

func runBatch(pool: RedisConnectionPool, key: String, requests: Int, concurrency: Int, leaseOnly: Bool = false) async throws -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
            let count = requests / concurrency + (worker < requests % concurrency ? 1 : 0)
            group.addTask {
                let arguments = ["GET", key]
                if leaseOnly {
                    for _ in 0..<count {
                        try await pool.withConnection { _ in }
                    }
                    return
                }
                for _ in 0..<count {
                    _ = try await pool.command(arguments)
                }
            }
        }
        try await group.waitForAll()
    }
    return clock.now - start
}

func main() async throws {
    let options: Options
    do {
        options = try Options(CommandLine.arguments)
    } catch let error as UsageError {
        if let message = error.message {
            FileHandleOutput.stderr("error: \(message)\n\(Options.usage)\n")
            exit(2)
        }
        FileHandleOutput.stdout(Options.usage + "\n")
        return
    }
    var logger = Logger(label: "redis-pool-bench")
    logger.logLevel = .warning
    let group: any EventLoopGroup =
        options.executor == "nio"
        ? NIOSingletons.posixEventLoopGroup
        : MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
    let configuration = RedisConnectionPool.Configuration(
        maximumConnections: options.connections,
        minimumConnections: options.connections,
        acquireTimeout: .seconds(5),
        maximumWaiters: max(4096, options.concurrency * 2),
        recordsLeaseTimers: true
    )
    let pool = RedisConnectionPool(
        configuration: configuration,
        endpoint: RedisEndpoint(host: options.host, port: options.port),
        eventLoopGroup: group,
        logger: logger
    )
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await pool.run() }
        _ = try await runBatch(pool: pool, key: options.key, requests: max(options.concurrency, options.requests / 10), concurrency: options.concurrency)
        let elapsed = try await runBatch(
            pool: pool, key: options.key, requests: options.requests, concurrency: options.concurrency,
            leaseOnly: options.leaseOnly)
        let seconds = elapsed / .seconds(1)
        let metrics = pool.metrics()
        FileHandleOutput.stdout(
            "pool: \(options.requests) GETs, \(options.concurrency) tasks, \(options.connections) connections, "
                + "\(options.threads) event-loop thread(s), executor \(options.executor)\(options.leaseOnly ? ", lease-only" : ""): \(String(format2: seconds)) s\n")
        FileHandleOutput.stdout(
            "pool metrics: peakInUse \(metrics.peakInUse) peakWaiters \(metrics.peakWaiters) leases \(metrics.leases) "
                + "acquireWait p99 \(metrics.acquireWaitMs.p99) ms leaseHold p50 \(metrics.leaseHoldMs.p50) ms p99 \(metrics.leaseHoldMs.p99) ms\n")
        FileHandleOutput.stdout("pool_ops_per_sec: \(Int(Double(options.requests) / seconds))\n")
        await pool.shutdown()
        tasks.cancelAll()
    }
}

enum FileHandleOutput {
    static func stdout(_ text: String) { fputsUnlocked(text, to: 1) }
    static func stderr(_ text: String) { fputsUnlocked(text, to: 2) }
    private static func fputsUnlocked(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

extension String {
    init(format2 value: Double) {
        let scaled = (value * 1000).rounded() / 1000
        self = "\(scaled)"
    }
}

// `--executor nio` runs Swift tasks on NIO's event loops; it must be installed before any task runs.
if CommandLine.arguments.contains("nio") {
    _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
try await main()
