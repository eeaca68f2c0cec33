#!/usr/bin/env bash
# Benchmark only (not CI): the code scan endpoint (JSON) with wrk over loopback, side by side
# with nginx serving a static file in the same run. Needs: apt-get install wrk nginx.
# Usage: scripts/bench-scan.sh [duration=20s] [connections=64]
set -euo pipefail
DUR=${1:-20s}
CONN=${2:-64}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'kill ${YP_PID:-0} ${NG_PID:-0} 2>/dev/null || true; rm -rf "$WORK"' EXIT
# YUEPIN_BIN names an already-built release binary (skips the build).
if [ -z "${YUEPIN_BIN:-}" ]; then
  cargo build --release -q -p yuepin --manifest-path "$ROOT/Cargo.toml"
fi
BIN="${YUEPIN_BIN:-$ROOT/target/release/yuepin}"
export YUEPIN_PUBLIC_URL=http://127.0.0.1:18080
"$BIN" demo --seed-only --enterprises 200 --data-dir "$WORK/demo" > "$WORK/seed.log"
URL=$(grep -m1 '^  valid ' "$WORK/seed.log" | awk '{print $2}')
"$BIN" serve --data-dir "$WORK/demo" --listen 127.0.0.1:18080 --public-url "$YUEPIN_PUBLIC_URL" > "$WORK/serve.log" 2>&1 &
YP_PID=$!
mkdir -p "$WORK/www"
curl -s -H 'accept: application/json' "$URL" > "$WORK/www/scan.json"
# nginx workers run as an unprivileged user: the static file must be readable by it (a 403
# answered from memory would flatter nginx).
chmod 755 "$WORK" "$WORK/www"
chmod 644 "$WORK/www/scan.json"
cat > "$WORK/nginx.conf" <<NGX
worker_processes 2; pid $WORK/nginx.pid; error_log $WORK/nginx.err;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:18081; root $WORK/www; } }
NGX
nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
NG_PID=$!
sleep 2
echo "== yuepin scan (JSON): $URL"
wrk -t2 -c"$CONN" -d"$DUR" --latency -H 'accept: application/json' "$URL" | tee "$WORK/yp.txt"
echo "== nginx static file (same JSON body)"
wrk -t2 -c"$CONN" -d"$DUR" --latency "http://127.0.0.1:18081/scan.json" | tee "$WORK/ng.txt"
if grep -q 'Non-2xx' "$WORK/yp.txt" "$WORK/ng.txt"; then
  echo "error: a run answered with errors (see the Non-2xx line above); the figures are void" >&2
  exit 1
fi
YP=$(awk '/Requests\/sec/ {print $2}' "$WORK/yp.txt")
NG=$(awk '/Requests\/sec/ {print $2}' "$WORK/ng.txt")
echo "yuepin ${YP} req/s · nginx ${NG} req/s · ratio $(awk -v a="$YP" -v b="$NG" 'BEGIN{printf "%.2f", a/b}')"
echo "p99: yuepin $(awk '/ 99%/ {print $2}' "$WORK/yp.txt") · nginx $(awk '/ 99%/ {print $2}' "$WORK/ng.txt")"
