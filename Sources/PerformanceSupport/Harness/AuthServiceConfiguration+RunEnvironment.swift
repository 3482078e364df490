import AuthServiceUnderTest

extension AuthServiceConfiguration {
    /// The server settings a result records in `environment.extra`, so two results can be told apart by the server
    /// they measured (the build configuration, hash cost, pool size and thread layout).
    public var runEnvironmentFields: [String: String] {
        [
            "serverBuildConfiguration": PerformanceEnvironment.buildConfiguration,
            "hashIterations": String(hashIterations),
            "poolMaximumConnections": String(pool.maximumConnections),
            "serverWorkers": String(workers),
            "serverDedicatedRedisEventLoop": String(dedicatedRedisEventLoop),
        ]
    }
}
