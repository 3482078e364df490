import Foundation
import Logging
import NIOPosix
import RedisPool

/// Counters read from `INFO commandstats` and `INFO stats`: the deterministic signals the gate relies on.
public struct RedisInfo: Sendable, Equatable, Codable {
    /// Calls per command, lower-case (`get`, `set`, `incr`, ...), from `INFO commandstats`.
    public var commandCalls: [String: Int]
    /// `total_connections_received` from `INFO stats`.
    public var connectionsReceived: Int
    /// `redis_version` from `INFO server`, when read.
    public var redisVersion: String?

    public init(commandCalls: [String: Int] = [:], connectionsReceived: Int = 0, redisVersion: String? = nil) {
        self.commandCalls = commandCalls
        self.connectionsReceived = connectionsReceived
        self.redisVersion = redisVersion
    }

    /// The harness's own readings (`INFO`), the only command excluded from per-request counts: a `PING`, `SELECT` or
    /// `CLIENT` the service sends is a round trip it pays for and counts like any data command.
    public static let bookkeepingCommands: Set<String> = ["info"]

    /// All calls except the harness's `INFO`.
    public var serviceCommandCalls: Int {
        commandCalls.reduce(0) { $0 + (Self.bookkeepingCommands.contains($1.key) ? 0 : $1.value) }
    }

    /// What happened between `earlier` and `self`.
    public func delta(since earlier: RedisInfo) -> RedisInfo {
        var calls: [String: Int] = [:]
        for (command, count) in commandCalls {
            let d = count - (earlier.commandCalls[command] ?? 0)
            if d != 0 { calls[command] = d }
        }
        return RedisInfo(
            commandCalls: calls, connectionsReceived: connectionsReceived - earlier.connectionsReceived,
            redisVersion: redisVersion)
    }

    /// Reads the counters over a fresh connection (which itself counts as one received connection).
    public static func read(_ endpoint: RedisEndpoint) async throws -> RedisInfo {
        let connection = try await RedisConnection.connect(
            to: endpoint, connectTimeout: .seconds(2), commandTimeout: .seconds(5),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: Logger(label: "redis-info"))
        defer { connection.close() }
        let replies = try await connection.pipeline([["INFO", "commandstats"], ["INFO", "stats"], ["INFO", "server"]])
        guard let commandstats = replies[0].string, let stats = replies[1].string else {
            throw RedisServerProcessError("INFO returned \(replies)")
        }
        var info = parse(commandstats: commandstats, stats: stats)
        info.redisVersion = replies[2].string.flatMap(Self.version(server:))
        return info
    }

    /// Client connections Redis has open now, from `CLIENT LIST`, not counting the connection that asks.
    public static func clientConnections(_ endpoint: RedisEndpoint) async throws -> Int {
        let connection = try await RedisConnection.connect(
            to: endpoint, connectTimeout: .seconds(2), commandTimeout: .seconds(5),
            eventLoop: MultiThreadedEventLoopGroup.singleton.next(), logger: Logger(label: "redis-info"))
        defer { connection.close() }
        guard let list = try await connection.command(["CLIENT", "LIST", "TYPE", "normal"]).string else {
            throw RedisServerProcessError("CLIENT LIST returned no text")
        }
        return max(0, list.split(whereSeparator: \.isNewline).count - 1)
    }

    /// `redis_version:7.0.15` from `INFO server`.
    package static func version(server: String) -> String? {
        server.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }.map {
            String($0.dropFirst("redis_version:".count)).trimmingCharacters(in: .whitespaces)
        }
    }

    /// Parses `cmdstat_get:calls=12,usec=...` lines and `total_connections_received:N`.
    package static func parse(commandstats: String, stats: String) -> RedisInfo {
        var calls: [String: Int] = [:]
        for line in commandstats.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[line.index(line.startIndex, offsetBy: 8)..<colon])
            for field in line[line.index(after: colon)...].split(separator: ",") where field.hasPrefix("calls=") {
                calls[name] = Int(field.dropFirst(6))
            }
        }
        var received = 0
        for line in stats.split(whereSeparator: \.isNewline) where line.hasPrefix("total_connections_received:") {
            received = Int(line.split(separator: ":")[1]) ?? 0
        }
        return RedisInfo(commandCalls: calls, connectionsReceived: received)
    }
}
