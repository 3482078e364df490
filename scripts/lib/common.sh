# Shared helpers for scripts/*. Source it; do not run it.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_ROOT

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# Raise the soft open-file limit to the hard limit (2,000 users need over 4,000 descriptors).
raise_nofile() {
  local hard
  hard="$(ulimit -Hn)"
  if [[ "$hard" == unlimited ]]; then ulimit -n 1048576 2>/dev/null || true; else ulimit -n "$hard" 2>/dev/null || true; fi
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 - <<'PY' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}
