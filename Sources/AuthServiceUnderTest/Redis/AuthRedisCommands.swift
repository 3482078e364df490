/// The exact Redis commands each endpoint sends on its success path, as counted by Redis's `INFO commandstats`
/// (`MULTI` and `EXEC` count as commands; commands queued inside a transaction are counted when `EXEC` runs them).
/// The performance suite divides the commandstats delta by the request count and compares with these numbers.
///
/// All keys are under the configured prefix (`auth:` by default); `<h>` is the lowercase hex SHA-256 of a token.
public enum AuthRedisCommands {
    /// `GET /auth/verify`: one round trip, `GET auth:token:<h>`. **1 command.**
    public static let verify = 1

    /// `POST /auth/login` (correct password, no failed attempts in the window): two round trips,
    /// `MGET auth:user:<u> auth:fail:<u>` then `SET auth:token:<h> <u> PX <ttl ms>`. **2 commands.**
    ///
    /// Other paths: with earlier failures in the window the second round trip is the pipeline
    /// `SET auth:token:<h> ...` + `DEL auth:fail:<u>` (3 commands); a wrong password or unknown user sends the pipeline
    /// `INCR auth:fail:<u>` + `EXPIRE auth:fail:<u> <window s>` (3 commands) ; a locked-out user is answered 429 after
    /// `MGET` + `PTTL auth:fail:<u>` (2 commands) without hashing.
    public static let login = 2

    /// `POST /auth/refresh`: two round trips, `GET auth:token:<old>` then one pipeline that is a transaction:
    /// `MULTI`, `SET auth:token:<new> <u> PX <ttl ms>`, `DEL auth:token:<old>`, `EXEC`. **5 commands.**
    /// MULTI/EXEC (not a bare pipeline) makes issuing the new token and revoking the old one atomic. If the `DEL`
    /// inside the transaction removed nothing (a concurrent refresh or logout won), the new token is deleted again
    /// and the request gets 401.
    public static let refresh = 5

    /// `POST /auth/logout`: one round trip, `DEL auth:token:<h>`. **1 command.**
    public static let logout = 1

    /// `POST /auth/register`: one round trip, `SET auth:user:<u> <record> NX`. **1 command.**
    public static let register = 1

    /// `GET /health`: `PING`. **1 command.** (`/health/live`, `/health/redis` and `/metrics` send none.)
    public static let health = 1

    /// Round trips (pool leases) per endpoint on its success path, by the load driver's endpoint name: each `command`
    /// or `pipeline` call leases one connection once.
    public static let roundTrips: [String: Int] = ["verify": 1, "login": 2, "refresh": 2, "logout": 1, "register": 1]
}
