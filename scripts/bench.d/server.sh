#!/usr/bin/env bash
# scripts/bench server: server CPU per request of auth-server GET /auth/verify and GET /health/live, and of nginx
# `return 200`, under the same wrk load in the same run. Last line: `ratio: <nginx µs / verify µs>` (goal >= 0.33).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/bench server [--runs N] [--duration D] [--connections C] [--warmup D] [--compare NAME=BIN]...
                            [--skip-build] [--help]

Builds auth-server in release (scratch path $SERVER_BENCH_SCRATCH, default .build-auth-release) and starts, on free
loopback ports, its own redis-server, the auth-server (load-test profile, 1 worker) and nginx (1 worker process,
`return 200`), all stopped by PID on exit. Seeds one user and a bearer token, then N times (default 3), interleaved:
  wrk -t1 -cC -dD GET /auth/verify (with the token)  |  GET /health/live  |  nginx GET /
(defaults: -c100 -d10s, each after a warm-up of D, default 2s). For each it reads the server's CPU time (utime +
stime of every thread, /proc/PID/stat) before and after and prints req/s and CPU µs per request; for verify also
redis-server's. --compare NAME=BIN measures another auth-server binary the same way in the same runs (e.g. a build
of an earlier commit). A run with non-2xx responses or socket errors fails the benchmark.
Prints medians over the runs, and as its last line `ratio: <nginx µs per request / verify µs per request>`.
TXT
}

runs=3 duration=10s connections=100 warmup=2s build=1
compare=()
while (($#)); do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --runs) runs="${2:?}"; shift 2 ;;
    --duration|-d) duration="${2:?}"; shift 2 ;;
    --connections|-c) connections="${2:?}"; shift 2 ;;
    --warmup) warmup="${2:?}"; shift 2 ;;
    --compare) [[ "${2:-}" == *=* ]] || die "--compare takes NAME=BIN"; compare+=("$2"); shift 2 ;;
    --skip-build) build=0; shift ;;
    *) usage >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer"

"$REPO_ROOT/scripts/bootstrap" --with-nginx >/dev/null
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
for tool in redis-server redis-cli wrk curl "$nginx_bin"; do
  command -v "$tool" >/dev/null || die "$tool not found (scripts/bootstrap --with-nginx installs it)"
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
pids=()
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
  local pid
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

wait_http() { # URL PID LOG
  for _ in $(seq 1 200); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "the process behind $1 exited"; }
    sleep 0.05
  done
  cat "$3" >&2; die "$1 did not answer"
}

redis_port="$(free_port)"
log "starting redis-server on 127.0.0.1:$redis_port"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$workdir" \
  --maxclients 10000 >"$workdir/redis.log" 2>&1 &
redis_pid=$!; pids+=("$redis_pid")
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || die "redis-server did not answer PING"

nginx_port="$(free_port)"
mkdir -p "$workdir/nginx"
cat >"$workdir/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $workdir/nginx/nginx.pid;
error_log $workdir/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $workdir/nginx; proxy_temp_path $workdir/nginx; fastcgi_temp_path $workdir/nginx;
  uwsgi_temp_path $workdir/nginx; scgi_temp_path $workdir/nginx;
  server { listen 127.0.0.1:$nginx_port; location / { return 200 "{\"status\":\"ok\"}"; } }
}
CONF
log "starting nginx on 127.0.0.1:$nginx_port (1 process)"
"$nginx_bin" -p "$workdir/nginx" -c "$workdir/nginx/nginx.conf" >"$workdir/nginx/stdout.log" 2>&1 &
nginx_pid=$!; pids+=("$nginx_pid")
wait_http "http://127.0.0.1:$nginx_port/" "$nginx_pid" "$workdir/nginx/error.log"

# start_server NAME BIN: starts an auth-server, seeds a user, sets port_NAME, pid_NAME, token_NAME.
start_server() {
  local name="$1" binary="$2" port token
  port="$(free_port)"
  log "starting $name ($binary) on 127.0.0.1:$port"
  "$binary" --profile loadtest --host 127.0.0.1 --port "$port" --workers 1 --key-prefix "bench-$name:" \
    --redis-url "redis://127.0.0.1:$redis_port" --log-level warning >"$workdir/$name.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  wait_http "http://127.0.0.1:$port/health/live" "$pid" "$workdir/$name.log"
  local base="http://127.0.0.1:$port" credentials='{"username":"bench-user","password":"bench-password-1"}'
  curl -fsS -X POST -H 'Content-Type: application/json' -d "$credentials" "$base/auth/register" >/dev/null
  token="$(curl -fsS -X POST -H 'Content-Type: application/json' -d "$credentials" "$base/auth/login" \
    | sed -n 's/.*"token":"\([A-Za-z0-9_-]*\)".*/\1/p')"
  [[ -n "$token" ]] || die "$name: login returned no token"
  [[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/auth/verify")" == 200 ]] \
    || die "$name: the seeded token does not verify"
  local var="${name//-/_}"
  printf -v "port_$var" '%s' "$port"; printf -v "pid_$var" '%s' "$pid"; printf -v "token_$var" '%s' "$token"
}

result_file() { mkdir -p "$workdir/results"; printf '%s/results/%s' "$workdir" "${1//\//_}"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks_per_second="$(getconf CLK_TCK)"

# measure LABEL PID URL [header]: one wrk run; appends "rps us redis_us" to $workdir/LABEL.
measure() {
  local label="$1" pid="$2" url="$3" header="${4:-}"
  local args=(-t1 -c"$connections")
  [[ -n "$header" ]] && args+=(-H "$header")
  [[ "$warmup" == 0 || "$warmup" == 0s ]] || wrk "${args[@]}" -d"$warmup" "$url" >/dev/null
  local c0 r0 c1 r1 out
  c0="$(cpu_ticks "$pid")"; r0="$(cpu_ticks "$redis_pid")"
  out="$(wrk "${args[@]}" -d"$duration" "$url")"
  c1="$(cpu_ticks "$pid")"; r1="$(cpu_ticks "$redis_pid")"
  if printf '%s\n' "$out" | grep -qE 'Non-2xx or 3xx responses|Socket errors'; then
    printf '%s\n' "$out" | sed "s/^/[$label] /" >&2
    die "$label: wrk reported errors (see above)"
  fi
  local requests rps
  requests="$(printf '%s\n' "$out" | awk '/requests in/ {print $1}')"
  rps="$(printf '%s\n' "$out" | awk '/^Requests\/sec:/ {print $2}')"
  [[ -n "$requests" && "$requests" -gt 0 ]] || die "$label: could not parse wrk output"
  awk -v c=$((c1 - c0)) -v r=$((r1 - r0)) -v n="$requests" -v hz="$ticks_per_second" -v rps="$rps" \
    'BEGIN { printf "%.0f %.1f %.1f\n", rps, c * 1e6 / hz / n, r * 1e6 / hz / n }' >>"$(result_file "$label")"
  printf '  %-22s %8.0f req/s  %6.1f µs CPU per request\n' "$label" "$rps" "$(tail -1 "$(result_file "$label")" | cut -d' ' -f2)" >&2
}

servers=(auth-server)
start_server auth-server "$bin"
for entry in "${compare[@]}"; do
  name="${entry%%=*}"; binary="${entry#*=}"
  [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] || die "--compare NAME must be letters, digits, - or _"
  [[ -x "$binary" ]] || die "--compare $name: $binary is not executable"
  start_server "$name" "$binary"; servers+=("$name")
done

for run in $(seq 1 "$runs"); do
  log "run $run/$runs: wrk -t1 -c$connections -d$duration"
  measure nginx "$nginx_pid" "http://127.0.0.1:$nginx_port/"
  for name in "${servers[@]}"; do
    v="${name//-/_}"
    port_var="port_$v"; pid_var="pid_$v"; token_var="token_$v"
    measure "$name/verify" "${!pid_var}" "http://127.0.0.1:${!port_var}/auth/verify" "Authorization: Bearer ${!token_var}"
    measure "$name/live" "${!pid_var}" "http://127.0.0.1:${!port_var}/health/live"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
column_median() { cut -d' ' -f"$2" "$(result_file "$1")" | median; }
spread() { cut -d' ' -f2 "$(result_file "$1")" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f-%.1f", v[1], v[NR] }'; }

printf 'server CPU per request, median of %s runs (wrk -t1 -c%s -d%s; one machine, same run):\n' "$runs" "$connections" "$duration"
printf '  %-22s %8s  %8s  %s\n' "" "req/s" "µs/req" "(range)"
for label in nginx $(for name in "${servers[@]}"; do echo "$name/verify $name/live"; done); do
  printf '  %-22s %8.0f  %8.1f  (%s)' "$label" "$(column_median "$label" 1)" "$(column_median "$label" 2)" "$(spread "$label")"
  [[ "$label" == */verify ]] && printf '  + redis-server %.1f µs' "$(column_median "$label" 3)"
  printf '\n'
done
nginx_us="$(column_median nginx 2)"
verify_us="$(column_median auth-server/verify 2)"
printf 'ratio: %s\n' "$(awk -v a="$nginx_us" -v b="$verify_us" 'BEGIN { printf "%.3f", a / b }')"
