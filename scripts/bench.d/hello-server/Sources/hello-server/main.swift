import Hummingbird

// Usage: hello-server PORT — serves GET / with a fixed body on 127.0.0.1:PORT until terminated.
let port = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 8080
let router = Router()
router.get("/") { _, _ -> String in
    "Hello, world!"
}
let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "hello-server")
)
try await app.runService()
