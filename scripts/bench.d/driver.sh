#!/usr/bin/env bash
# scripts/bench driver: loaddriver (closed loop, C connections, one event-loop thread) vs `wrk -t1 -cC -dD` against the
# same trivial release-built Hummingbird hello server, in one run. Last line: `ratio: <loaddriver req/s / wrk req/s>`.
# Goal: >= 0.8.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

usage() {
  cat <<'TXT'
Usage: scripts/bench driver [--duration SECONDS] [--connections C] [--warmup SECONDS] [--skip-build] [--help]
       scripts/bench driver --open [--users U] [--rate R] [--duration SECONDS] [--runs N] [--skip-build]

Builds (release) loaddriver (scratch $DRIVER_BENCH_SCRATCH, default .build-driver-release) and the hello server in
scripts/bench.d/hello-server (scratch $DRIVER_BENCH_HELLO_SCRATCH, default .build-driver-hello), starts the hello
server on a free 127.0.0.1 port (stopped by PID on exit), warms it up with wrk for --warmup seconds (default 2), then runs
  loaddriver run --users C --closed-loop --duration D --threads 1 --mix 'GET:/=1'   (defaults: C=100, D=10)
  wrk -t1 -cC -dDs http://127.0.0.1:<port>/
and prints req/s of both. Last line: `ratio: <loaddriver / wrk>`.

--open: the open model at the seed's Ultimate shape instead. Starts the hello server's bare SwiftNIO mode (`--raw`,
one event-loop thread, a canned response: the cheapest target, so the driver is what is measured), then --runs times
(default 3), interleaved:
  loaddriver run --users U --rate-per-user R --duration D --ramp-up 4 --threads 1 --mix 'GET:/=1'   (defaults: U=2000, R=10)
  paced-client 127.0.0.1 PORT U R D 4   (scripts/bench.d/paced-client.c, built with cc -O2)
i.e. U paced users at R req/s each, first from loaddriver, then from a plain C epoll client with the same timetable
and 1 ms tick that does nothing else: the kernel's share of a paced request, the floor for any client that reads each
response when it arrives. Then once the same load with the LoadDriver inside the server's own process
(`hello-server PORT --raw --in-process-driver U R D DIR`), as the suite runs it beside the server under test. Prints
for loaddriver's runs: achieved vs target rate, late and dropped sends, corrected latency and service time p50/p99,
scheduling lag, the driver's event-loop CPU and the machine's. Then loaddriver and `wrk -t1 -cU` each as a closed loop
(as fast as it goes, the only regime wrk has) against the same server, and a `cost:` line: the process CPU per request
of loaddriver paced (median of the runs; goal <= 20 us) against the C client's in the same runs, and closed loop
against wrk.
Last line: `ratio: <achieved / target>` (the lowest of loaddriver's runs; the driver kept its timetable when it is
>= 0.95 and no run is driver-limited).
TXT
}

duration=10 connections=100 warmup=2 build=1 open=0 users=2000 rate=10 runs=3
while (($#)); do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --open) open=1; shift ;;
    --users) users="${2:?}"; shift 2 ;;
    --rate) rate="${2:?}"; shift 2 ;;
    --runs) runs="${2:?}"; shift 2 ;;
    --duration|-d) duration="${2:?}"; shift 2 ;;
    --connections|-c) connections="${2:?}"; shift 2 ;;
    --warmup) warmup="${2:?}"; shift 2 ;;
    --skip-build) build=0; shift ;;
    *) usage >&2; exit 2 ;;
  esac
done

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]?$ ]] || die "--runs takes 1-99"
for tool in wrk python3 cc; do command -v "$tool" >/dev/null || die "$tool not found (scripts/bootstrap installs wrk)"; done
cd "$REPO_ROOT"

scratch="${DRIVER_BENCH_SCRATCH:-.build-driver-release}"
hello_scratch="${DRIVER_BENCH_HELLO_SCRATCH:-.build-driver-hello}"
hello_pkg="scripts/bench.d/hello-server"
if ((build)); then
  log "building loaddriver (release, scratch $scratch)"
  swift build -c release --scratch-path "$scratch" --product loaddriver >&2
  log "building hello-server (release, scratch $hello_scratch)"
  swift build -c release --package-path "$hello_pkg" --scratch-path "$hello_scratch" >&2
fi
driver_bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/loaddriver"
hello_bin="$(swift build -c release --package-path "$hello_pkg" --scratch-path "$hello_scratch" --show-bin-path)/hello-server"
[[ -x "$driver_bin" && -x "$hello_bin" ]] || die "missing binaries (run without --skip-build)"

workdir="$(mktemp -d)"
hello_pid=""
cleanup() {
  if [[ -n "$hello_pid" ]] && kill -0 "$hello_pid" 2>/dev/null; then
    kill -TERM "$hello_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$hello_pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$hello_pid" 2>/dev/null && kill -KILL "$hello_pid" 2>/dev/null || true
    wait "$hello_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
url="http://127.0.0.1:$port"
server_args=("$port")
((open == 0)) || server_args+=(--raw)
"$hello_bin" "${server_args[@]}" >"$workdir/hello.log" 2>&1 &
hello_pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  kill -0 "$hello_pid" 2>/dev/null || die "hello-server exited: $(cat "$workdir/hello.log")"
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || die "hello-server did not start on port $port"
log "hello-server pid $hello_pid on $url"

if ((open)); then
  paced_bin="$workdir/paced-client"
  cc -O2 -o "$paced_bin" scripts/bench.d/paced-client.c || die "could not build scripts/bench.d/paced-client.c"
  for run in $(seq 1 "$runs"); do
    log "run $run/$runs: loaddriver (own process), $users paced users at $rate req/s each, ${duration}s, 1 event-loop thread"
    mkdir -p "$workdir/run-$run"
    "$driver_bin" run --url "$url" --name driver-open-bench --users "$users" --rate-per-user "$rate" --duration "$duration" \
      --ramp-up 4 --mix 'GET:/=1' --pool-path none --threads 1 --out "$workdir/run-$run" >"$workdir/driver.out" 2>"$workdir/driver.err" \
      || die "loaddriver failed: $(cat "$workdir/driver.err" "$workdir/driver.out")"
    log "run $run/$runs: paced-client (C), the same timetable: the kernel's share"
    "$paced_bin" 127.0.0.1 "$port" "$users" "$rate" "$duration" 4 >>"$workdir/paced-client.out" 2>"$workdir/paced-client.err" \
      || die "paced-client failed: $(cat "$workdir/paced-client.err")"
  done
  log "LoadDriver in the server's process: the same load against a second --raw server it hosts itself"
  inproc_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  timeout $((duration + 120)) "$hello_bin" "$inproc_port" --raw --in-process-driver "$users" "$rate" "$duration" "$workdir" \
    >"$workdir/inproc.out" 2>"$workdir/inproc.err" || die "in-process run failed: $(cat "$workdir/inproc.err")"
  log "loaddriver closed loop, $users connections, ${duration}s: the regime wrk runs in"
  "$driver_bin" run --url "$url" --name driver-closed-bench --users "$users" --closed-loop --duration "$duration" \
    --ramp-up 4 --mix 'GET:/=1' --pool-path none --threads 1 --out "$workdir" >"$workdir/closed.out" 2>"$workdir/closed.err" \
    || die "loaddriver failed: $(cat "$workdir/closed.err" "$workdir/closed.out")"
  log "wrk -t1 -c$users -d${duration}s against the same bare server: the reference CPU per request"
  python3 - "$users" "$duration" "$url/" >"$workdir/wrk.cost" <<'PY' || die "wrk failed"
import resource, subprocess, sys
users, duration, url = sys.argv[1:]
out = subprocess.run(["wrk", "-t1", f"-c{users}", f"-d{duration}s", url], capture_output=True, text=True, check=True).stdout
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rps = next(float(l.split()[1]) for l in out.splitlines() if l.startswith("Requests/sec:"))
print(f"{(usage.ru_utime + usage.ru_stime) / (rps * float(duration)) * 1e6:.1f} {rps:.0f}")
PY
  python3 - "$workdir" <<'PY'
import glob, json, os, statistics, sys
workdir = sys.argv[1]
def load(pattern):
    return json.load(open(glob.glob(os.path.join(workdir, pattern))[0]))
run_dirs = sorted(glob.glob(os.path.join(workdir, "run-*")), key=lambda d: int(d.rsplit("-", 1)[1]))
paced = [load(os.path.join(d, "load_test_driver-open-bench_*.json")) for d in run_dirs]
inproc = load("load_test_driver-in-process-bench_*.json")
closed = load("load_test_driver-closed-bench_*.json")
wrk_us, wrk_rps = open(os.path.join(workdir, "wrk.cost")).read().split()
c_runs = [line.split() for line in open(os.path.join(workdir, "paced-client.out")) if line.strip()]
ratios = []
for label, r in [(f"run {i + 1}", r) for i, r in enumerate(paced)] + [("server's process", inproc)]:
    s, d = r["summary"], r["driver"]
    lat, svc, lag = s["latencyMs"], s["serviceTimeMs"], d["schedulingLagMs"]
    m = d.get("machine") or {}
    loops = ", ".join(f"{c:.0f}%" for c in (d.get("loopCPUPercent") or []))
    print(f'[{label}] target {s["targetRate"]:.0f} req/s from {r["scenario"]["users"]} users: achieved {s["achievedRate"]:.0f} req/s; '
          f'{s["requests"]} requests, {s["failed"]} failed, {s["late"]} late, {s["dropped"]} dropped')
    print(f'[{label}] latency (corrected) p50 {lat["p50"]:.2f} ms, p99 {lat["p99"]:.2f} ms; service time p50 {svc["p50"]:.2f} ms, p99 {svc["p99"]:.2f} ms')
    print(f'[{label}] driver: scheduling lag p99 {lag["p99"]:.2f} ms, event loop at {loops or "n/a"} of a core, '
          f'driver-limited {"yes: " + (d.get("driverLimitedReason") or "") if d["driverLimited"] else "no"}; '
          f'process {d["cpuPercent"]:.0f}% of a core; machine {m.get("busyPercent", float("nan")):.0f}% busy, {m.get("stealPercent", float("nan")):.1f}% stolen')
    ratios.append(s["achievedRate"] / s["targetRate"])
# The whole loaddriver process's CPU over the load phase per request (goal <= 20 us), and the C client's in the same runs.
own = [r["driver"]["cpuPercent"] / 100 / r["summary"]["achievedRate"] * 1e6 for r in paced]
floor = [float(c[1]) for c in c_runs]
for i, (rps, us, late, failed) in enumerate(c_runs):
    print(f'[run {i + 1}] paced-client (C): {float(rps):.0f} req/s, {late} late, {failed} failed; {float(us):.1f} us of CPU per request')
closed_us = closed["driver"]["cpuPercent"] / 100 / closed["summary"]["achievedRate"] * 1e6
fmt = lambda xs: ", ".join(f"{x:.1f}" for x in xs)
print(f'cost: loaddriver {statistics.median(own):.1f} us of CPU per paced request (runs {fmt(own)}); '
      f'paced C client {statistics.median(floor):.1f} us ({fmt(floor)}): {statistics.median(own) / statistics.median(floor):.2f}x; '
      f'closed loop {closed_us:.1f} us at {int(closed["summary"]["achievedRate"]):,} req/s vs wrk {wrk_us} us at {int(float(wrk_rps)):,} req/s; '
      f'goal <= 20 (paced, median)')
print(f'ratio: {min(ratios):.3f}')
PY
  exit 0
fi

if ((warmup > 0)); then
  log "warm-up: wrk -t1 -c$connections -d${warmup}s"
  wrk -t1 -c"$connections" -d"${warmup}s" "$url/" >/dev/null
fi

log "loaddriver: closed loop, $connections connections, ${duration}s, 1 event-loop thread"
"$driver_bin" run --url "$url" --name driver-bench --users "$connections" --closed-loop --duration "$duration" \
  --ramp-up 0.2 --mix 'GET:/=1' --pool-path none --threads 1 --out "$workdir" >"$workdir/driver.out" 2>"$workdir/driver.err" \
  || die "loaddriver failed: $(cat "$workdir/driver.err" "$workdir/driver.out")"
result_file="$(ls "$workdir"/load_test_driver-bench_*.json)"
read -r driver_rps driver_p99 driver_failed <<<"$(python3 - "$result_file" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(f'{s["achievedRate"]:.0f} {s["latencyMs"]["p99"]:.2f} {s["failed"]}')
PY
)"
[[ "$driver_failed" == 0 ]] || log "warning: loaddriver saw $driver_failed failed requests"

log "wrk: -t1 -c$connections -d${duration}s"
wrk -t1 -c"$connections" -d"${duration}s" --latency "$url/" >"$workdir/wrk.out"
wrk_rps="$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$workdir/wrk.out")"
wrk_p99="$(awk '$1 == "99%" {print $2}' "$workdir/wrk.out")"
[[ -n "$wrk_rps" ]] || die "could not parse wrk output: $(cat "$workdir/wrk.out")"

echo "loaddriver: ${driver_rps} req/s (p99 ${driver_p99} ms, ${connections} connections, 1 thread, ${duration}s)"
echo "wrk:        ${wrk_rps} req/s (p99 ${wrk_p99}, ${connections} connections, 1 thread, ${duration}s)"
python3 -c "import sys; print(f'ratio: {int(sys.argv[1]) / int(sys.argv[2]):.2f}')" "$driver_rps" "$wrk_rps"
