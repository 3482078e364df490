#!/usr/bin/env bash
# scripts/bench server: auth-server GET /auth/verify (one Redis GET through the pool) vs GET /health/live (no Redis),
# both under `wrk -t1 -c100 -d10s --latency` against the same release server in the same run.
# Last line: `ratio: <verify req/s / live req/s>`. Goal: >= 0.5.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/bench server [--duration D] [--connections C] [--threads T] [--workers W] [--warmup D]
                            [--skip-build] [--help]

Builds auth-server in release (scratch path $SERVER_BENCH_SCRATCH, default .build-auth-release), starts its own
redis-server and the auth-server (load-test profile: 1,000 PBKDF2 iterations; W event-loop threads, default 1) on free
loopback ports, both stopped by PID on exit. Seeds one user and logs in (curl) for a bearer token, warms up each
endpoint for D seconds (default 2), then runs
  wrk -tT -cC -dD --latency -H 'Authorization: Bearer <token>' http://127.0.0.1:<port>/auth/verify
  wrk -tT -cC -dD --latency                                    http://127.0.0.1:<port>/health/live
(defaults: -t1 -c100 -d10s) and prints req/s and p99 of both. A verify run with non-2xx responses or socket errors
fails the benchmark. Last line: `ratio: <verify req/s / live req/s>`.
TXT
}

duration=10s connections=100 threads=1 workers=1 warmup=2s build=1
while (($#)); do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --duration|-d) duration="${2:?}"; shift 2 ;;
    --connections|-c) connections="${2:?}"; shift 2 ;;
    --threads|-t) threads="${2:?}"; shift 2 ;;
    --workers) workers="${2:?}"; shift 2 ;;
    --warmup) warmup="${2:?}"; shift 2 ;;
    --skip-build) build=0; shift ;;
    *) usage >&2; exit 2 ;;
  esac
done

for tool in redis-server redis-cli wrk curl; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/bootstrap installs it)"
done
cd "$REPO_ROOT"

scratch="${SERVER_BENCH_SCRATCH:-.build-auth-release}"
if ((build)); then
  log "building auth-server (release, scratch $scratch)"
  swift build -c release --scratch-path "$scratch" --product auth-server >&2
fi
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/auth-server"
[[ -x "$bin" ]] || die "missing $bin (run without --skip-build)"

workdir="$(mktemp -d)"
redis_pid="" server_pid=""
stop_pid() {
  local pid="$1"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop_pid "$server_pid"
  stop_pid "$redis_pid"
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

redis_port="$(free_port)"
log "starting redis-server on 127.0.0.1:$redis_port"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$workdir" \
  --maxclients 10000 >"$workdir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  kill -0 "$redis_pid" 2>/dev/null || { cat "$workdir/redis.log" >&2; die "redis-server exited"; }
  sleep 0.05
done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || die "redis-server did not answer PING"

port="$(free_port)"
log "starting auth-server on 127.0.0.1:$port (workers $workers, load-test profile)"
"$bin" --profile loadtest --host 127.0.0.1 --port "$port" --workers "$workers" \
  --redis-url "redis://127.0.0.1:$redis_port" --log-level warning >"$workdir/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 200); do
  curl -fsS "$base/health/live" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$workdir/server.log" >&2; die "auth-server exited"; }
  sleep 0.05
done
curl -fsS "$base/health" >/dev/null || { cat "$workdir/server.log" >&2; die "auth-server is not ready"; }

log "seeding user bench-user and a token"
curl -fsS -X POST -H 'Content-Type: application/json' \
  -d '{"username":"bench-user","password":"bench-password-1"}' "$base/auth/register" >/dev/null
token="$(curl -fsS -X POST -H 'Content-Type: application/json' \
  -d '{"username":"bench-user","password":"bench-password-1"}' "$base/auth/login" \
  | sed -n 's/.*"token":"\([A-Za-z0-9_-]*\)".*/\1/p')"
[[ -n "$token" ]] || die "login returned no token"
auth_header="Authorization: Bearer $token"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth_header" "$base/auth/verify")" == 200 ]] \
  || die "the seeded token does not verify"

# run_wrk NAME URL [header...]: prints wrk's output to stderr, sets rps_NAME, p99_NAME.
run_wrk() {
  local name="$1" url="$2"; shift 2
  local args=()
  for header in "$@"; do args+=(-H "$header"); done
  if [[ "$warmup" != 0 && "$warmup" != 0s ]]; then
    wrk -t"$threads" -c"$connections" -d"$warmup" "${args[@]}" "$url" >/dev/null
  fi
  local out
  out="$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "${args[@]}" "$url")"
  printf '%s\n' "$out" | sed "s/^/[$name] /" >&2
  if printf '%s\n' "$out" | grep -qE 'Non-2xx or 3xx responses|Socket errors'; then
    die "$name: wrk reported errors (see above)"
  fi
  local rps p99
  rps="$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')"
  p99="$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')"
  [[ -n "$rps" && -n "$p99" ]] || die "could not parse wrk output for $name"
  printf -v "rps_$name" '%s' "$rps"
  printf -v "p99_$name" '%s' "$p99"
}

log "wrk -t$threads -c$connections -d$duration --latency GET /auth/verify"
run_wrk verify "$base/auth/verify" "$auth_header"
log "wrk -t$threads -c$connections -d$duration --latency GET /health/live"
run_wrk live "$base/health/live"

pool_json="$(curl -fsS "$base/health/redis" || true)"
printf 'pool after run: %s\n' "$pool_json" >&2

printf 'verify: %s req/s, p99 %s\n' "$rps_verify" "$p99_verify"
printf 'live:   %s req/s, p99 %s\n' "$rps_live" "$p99_live"
printf 'ratio: %s\n' "$(awk -v a="$rps_verify" -v b="$rps_live" 'BEGIN {printf "%.3f", a / b}')"
