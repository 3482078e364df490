import Logging
import NIOCore
import RedisPool

extension AuthServer {
    /// Sends `PING` through `client` and waits at most `pool.connectTimeout + pool.acquireTimeout`.
    ///
    /// On failure, one direct diagnostic connection (outside the client, only on this failure path) tells a refused
    /// password apart from an unreachable server, so the error says which.
    static func startupCheck(
        client: any AuthRedisClient,
        endpoint: RedisEndpoint,
        configuration: AuthServiceConfiguration,
        eventLoop: any EventLoop,
        logger: Logger
    ) async throws {
        let budget = configuration.pool.connectTimeout + configuration.pool.acquireTimeout
        let outcome: Result<RedisReply, any Error> = await withTaskGroup(of: Result<RedisReply, any Error>?.self) {
            group in
            group.addTask {
                do { return .success(try await client.command(["PING"])) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: budget)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(RedisPoolError(code: .acquireTimeout, message: "no PONG within \(budget)"))
        }
        switch outcome {
        case .success(let reply) where reply.string == "PONG":
            logger.info("Redis answered PING", metadata: ["redis": "\(endpoint)"])
            return
        case .success(.error(let message)):
            throw AuthStartupError(.redisError, "Redis at \(endpoint) answered PING with an error: \(message)")
        case .success(let reply):
            throw AuthStartupError(.redisError, "Redis at \(endpoint) answered PING with \(reply)")
        case .failure(let error as RedisServerError):
            throw AuthStartupError(.redisError, "Redis at \(endpoint) answered PING with an error: \(error.message)")
        case .failure(let error):
            throw await self.diagnose(endpoint: endpoint, configuration: configuration, eventLoop: eventLoop, logger: logger, clientError: error)
        }
    }

    private static func diagnose(
        endpoint: RedisEndpoint,
        configuration: AuthServiceConfiguration,
        eventLoop: any EventLoop,
        logger: Logger,
        clientError: any Error
    ) async -> AuthStartupError {
        do {
            let connection = try await RedisConnection.connect(
                to: endpoint,
                connectTimeout: configuration.pool.connectTimeout,
                commandTimeout: configuration.pool.commandTimeout,
                eventLoop: eventLoop,
                logger: logger
            )
            _ = try? await connection.close().get()
            return AuthStartupError(
                .redisUnreachable,
                "Redis at \(endpoint) accepts connections but PING through the client failed within "
                    + "\(configuration.pool.connectTimeout + configuration.pool.acquireTimeout): \(clientError)"
            )
        } catch let error as RedisConnectionError where error.code == .handshakeFailed {
            return AuthStartupError(
                .redisAuthenticationFailed,
                "Redis at \(endpoint) refused the credentials of the Redis URL: \(error.message)"
            )
        } catch {
            return AuthStartupError(
                .redisUnreachable,
                "Redis at \(endpoint) is unreachable (connect timeout \(configuration.pool.connectTimeout)): \(error)"
            )
        }
    }
}
