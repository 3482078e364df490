import LoadDriver
import Testing

@Suite("Loopback calibration")
struct LoopbackCalibrationTests {
    @Test(.timeLimit(.minutes(1)))
    func measuresRoundTripsAndEnds() async throws {
        let started = ContinuousClock.now
        let rate = try #require(await LoopbackCalibration.measure(seconds: 0.2))
        #expect(rate.isFinite && rate > 100, "\(rate) round trips/s")
        #expect(ContinuousClock.now - started < .seconds(3))
    }
}
