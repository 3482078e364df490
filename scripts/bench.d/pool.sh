#!/usr/bin/env bash
# scripts/bench pool: RedisConnectionPool GET round trips/s at 50 concurrent callers vs redis-benchmark -t get -c 50,
# measured against the same redis-server in the same run. Last line: `ratio: <pool / redis-benchmark>` (median of runs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

usage() {
  cat <<'TXT'
Usage: scripts/bench pool [--requests N] [--runs R] [--concurrency C] [--connections M] [--threads T]
                          [--executor default|nio] [--skip-build] [--help]

Builds redis-pool-bench in release, starts its own redis-server on a free loopback port (stopped by PID on exit),
SETs a key, then R times (default 3): N GETs (default 200000) through RedisConnectionPool.command from C concurrent
tasks (default 50; pool of M connections, default 50; T event-loop threads, default 1), followed by
`redis-benchmark -t get -c C -n N -q` against the same server. Prints both rates per run and, as the last line,
`ratio: <pool / redis-benchmark>` using the median ratio of the runs. Goal: >= 0.7.
TXT
}

requests=200000 runs=3 concurrency=50 connections=50 threads=1 executor=default build=1
while (($#)); do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --requests|-n) requests="${2:?}"; shift 2 ;;
    --runs) runs="${2:?}"; shift 2 ;;
    --concurrency|-c) concurrency="${2:?}"; shift 2 ;;
    --connections) connections="${2:?}"; shift 2 ;;
    --threads) threads="${2:?}"; shift 2 ;;
    --executor) executor="${2:?}"; shift 2 ;;
    --skip-build) build=0; shift ;;
    *) usage >&2; exit 2 ;;
  esac
done

command -v redis-server >/dev/null || die "redis-server not found (apt-get install redis-server)"
command -v redis-benchmark >/dev/null || die "redis-benchmark not found (apt-get install redis-tools)"
cd "$REPO_ROOT"

scratch="${POOL_BENCH_SCRATCH:-.build-pool}"
if ((build)); then
  log "building redis-pool-bench (release, scratch $scratch)"
  swift build -c release --scratch-path "$scratch" --product redis-pool-bench >&2
fi
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/redis-pool-bench"
[[ -x "$bin" ]] || die "missing $bin (run without --skip-build)"

port="$(free_port)"
workdir="$(mktemp -d)"
redis_pid=""
cleanup() {
  if [[ -n "$redis_pid" ]] && kill -0 "$redis_pid" 2>/dev/null; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

log "starting redis-server on 127.0.0.1:$port"
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$workdir" \
  >"$workdir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  kill -0 "$redis_pid" 2>/dev/null || { cat "$workdir/redis.log" >&2; die "redis-server exited"; }
  sleep 0.05
done
redis-cli -p "$port" set bench:key "session-0123456789abcdef0123456789abcdef" >/dev/null

# Client CPU seconds (user+sys, from /proc of this (sub)shell after waiting for the command); printed to fd 3.
cpu_of() {
  local before after me=$BASHPID
  before="$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")"
  "$@"
  after="$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")"
  awk -v a="$before" -v b="$after" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz}' >&3
}

ratios=()
for run in $(seq 1 "$runs"); do
  exec 3>"$workdir/cpu"
  pool_out="$(cpu_of "$bin" --port "$port" --requests "$requests" --concurrency "$concurrency" \
    --connections "$connections" --threads "$threads" --executor "$executor" --key bench:key)"
  exec 3>&-
  pool_cpu="$(cat "$workdir/cpu")"
  printf '%s\n' "$pool_out" | grep -v '^pool_ops_per_sec' | sed "s/^/[run $run] /"
  pool_rps="$(printf '%s\n' "$pool_out" | awk '/^pool_ops_per_sec:/ {print $2}')"
  [[ -n "$pool_rps" ]] || die "bench client printed no rate"
  exec 3>"$workdir/cpu"
  rb_out="$(cpu_of redis-benchmark -p "$port" -t get -c "$concurrency" -n "$requests" -q 2>/dev/null)"
  exec 3>&-
  rb_cpu="$(cat "$workdir/cpu")"
  rb_rps="$(printf '%s\n' "$rb_out" | tr '\r' '\n' | awk '/requests per second/ {v=$2} END {print v}')"
  [[ -n "$rb_rps" ]] || die "could not parse redis-benchmark output"
  ratio="$(awk -v a="$pool_rps" -v b="$rb_rps" 'BEGIN {printf "%.3f", a / b}')"
  printf '[run %d] pool: %d ops/s   redis-benchmark: %.0f ops/s   ratio: %s\n' "$run" "$pool_rps" "$rb_rps" "$ratio"
  # Client CPU per GET (the pool client's count includes its 10 % warm-up): less sensitive to a busy machine.
  awk -v run="$run" -v pc="$pool_cpu" -v rc="$rb_cpu" -v n="$requests" 'BEGIN {
    printf "[run %d] client CPU per GET: pool %.1f us, redis-benchmark %.1f us\n", run, pc * 1e6 / (n * 1.1), rc * 1e6 / n }'
  ratios+=("$ratio")
done

median="$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')"
printf 'runs: %s (ratios %s)\n' "$runs" "${ratios[*]}"
printf 'ratio: %s\n' "$median"
