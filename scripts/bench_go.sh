#!/usr/bin/env bash
# bench_go.sh - cross-check scripts/bench.ts with the independent Go benchmark client: runs the
# shared compare.sh (nats.go-based natsbench) on the core (non-JetStream) cases, nats-server as A
# and natsdeno as B, and prints its table with B/A.
#
#   scripts/bench_go.sh [--js] [compare.sh options, e.g. -r 5 -x 0.5 --out FILE]
#
# --js: the JetStream cases instead (js-async/js-sync/js-consume, memory and file), both servers with
#       JetStream in a fresh store dir (nats-server -js -sd {TMP}, natsdeno main.ts -js -sd {TMP}).
#
# Env: BENCH_DIR (default /work/shared/bench, else ../shared/bench), PORT_A/PORT_B (default: free ports),
#      B_CMD to bench another command than natsdeno as B (use {PORT} for its port).
# Exits 0 with a note when the shared bench folder is missing.
set -euo pipefail
JS=0
if [ "${1:-}" = "--js" ]; then JS=1; shift; fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-}"
if [ -z "$BENCH_DIR" ]; then
  for d in /work/shared/bench "$ROOT/../shared/bench"; do
    [ -x "$d/compare.sh" ] && { BENCH_DIR="$d"; break; }
  done
fi
if [ -z "$BENCH_DIR" ] || [ ! -x "$BENCH_DIR/compare.sh" ]; then
  echo "bench_go.sh: no shared bench folder (compare.sh); skipping" >&2
  exit 0
fi
command -v nats-server >/dev/null || { echo "bench_go.sh: nats-server not on PATH (apt-get install nats-server)" >&2; exit 1; }

BIN="${NATSBENCH:-${NATSBENCH_DIR:-/tmp/natsbench}/natsbench}"
if [ ! -x "$BIN" ]; then
  echo "# building natsbench with $BENCH_DIR/build.sh" >&2
  "$BENCH_DIR/build.sh" >&2
fi

# Cases: everything compare.sh lists except JetStream, or (--js) only the JetStream cases.
if [ "$JS" = 1 ]; then
  CASES="$("$BENCH_DIR/compare.sh" --list | awk '$2 ~ /^js-/ { printf "%s%s", sep, $1; sep = "," }')"
  JSF=(-js -sd '{TMP}')
else
  CASES="$("$BENCH_DIR/compare.sh" --list | awk '$2 !~ /^js-/ { printf "%s%s", sep, $1; sep = "," }')"
  JSF=()
fi
DENO="${DENO:-$(command -v deno || echo deno)}"
DEFAULT_B="$DENO run -A $ROOT/main.ts ${JSF[*]} -a 127.0.0.1 -p {PORT}"
read -r -a B <<<"${B_CMD:-$DEFAULT_B}"

# A port nobody listens on (compare.sh refuses busy ports; 4333 is often taken by tests).
free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo 4333
}
PORT_A="${PORT_A:-$(free_port)}"
PORT_B="${PORT_B:-$(free_port)}"
while [ "$PORT_B" = "$PORT_A" ]; do PORT_B="$(free_port)"; done

cd "$ROOT"
exec "$BENCH_DIR/compare.sh" --names nats-server,natsdeno --only "$CASES" \
  --port-a "$PORT_A" --port-b "$PORT_B" "$@" \
  -- nats-server "${JSF[@]}" -a 127.0.0.1 -p '{PORT}' \
  -- "${B[@]}"
