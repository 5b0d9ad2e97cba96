#!/usr/bin/env bash
# What shadow traffic costs the client: p50/p99 through strangler-proxy with shadow off, shadow
# to a healthy candidate, and shadow to a candidate that never answers.
#
# Three `strangler proxy` processes run side by side, identical (same binary, --workers 1, one
# route matching everything, weight 0, same primary) except for the route's shadow setting:
#   off     no shadow;
#   healthy shadow = { timeout = "5s" } to a second nginx port answering the same JSON;
#   hanging shadow = { timeout = "5s" } to `strangler-test-upstream --hang` (accepts, reads,
#           never answers: at most 64 mirrors wait at once, the rest are dropped and counted).
# The upstreams and the proxies are pinned to CPU 0, wrk to CPU 1, like bench/proxy.sh. Each
# round runs every target once, in turn (interleaved), with two loads:
#   paced      wrk -t1 -c16, each connection waiting 5 ms between requests (a steady load well
#              below saturation: the latency a client sees in normal operation);
#   saturating wrk -t1 -c64 (throughput, and latency when the core is the bottleneck).
# The shadow counters (compared, matched, dropped) of each run are read from the admin API.
#
# Usage: bench/shadow.sh [ROUNDS] [SECONDS]     (defaults: 5 rounds of 10 s per target and load)
# Needs root for apt-get when wrk or nginx are missing. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
SECONDS_PER_RUN=${2:-10}
SERVER_CPU=0
LOAD_CPU=1

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx)

cargo build --release -q -p strangler --bin strangler -p strangler-proxy --bin strangler-test-upstream
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
STRANGLER=$BIN/strangler
UPSTREAM=$BIN/strangler-test-upstream

# Ports of this script only (bench/proxy.sh uses 18181-18186, so both can run on one machine).
PRIMARY_PORT=18291; CANDIDATE_PORT=18292; HANG_PORT=18293
declare -A PORT=([off]=18294 [healthy]=18295 [hanging]=18296)
declare -A ADMIN=([off]=18297 [healthy]=18298 [hanging]=18299)
for port in $PRIMARY_PORT $CANDIDATE_PORT $HANG_PORT "${PORT[@]}" "${ADMIN[@]}"; do
  if ss -ltn | awk '{print $4}' | grep -q ":$port\$"; then
    echo "port $port is in use: another run of this script?" >&2
    exit 1
  fi
done

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx-up.pid" ] && kill "$(cat "$WORK/nginx-up.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

# Primary and healthy candidate: one nginx worker answering the same small JSON on two ports.
cat > "$WORK/nginx-up.conf" <<CONF
worker_processes 1;
pid $WORK/nginx-up.pid;
error_log $WORK/nginx-up.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:$PRIMARY_PORT;
    listen 127.0.0.1:$CANDIDATE_PORT;
    location / { default_type application/json; return 200 '{"id": 7, "title": "Alien", "price": 10}'; }
  }
}
CONF
taskset -c $SERVER_CPU "$NGINX" -c "$WORK/nginx-up.conf" -p "$WORK" -g 'daemon on;'

taskset -c $SERVER_CPU "$UPSTREAM" --name hanging --hang --listen "127.0.0.1:$HANG_PORT" \
  >"$WORK/hang.out" 2>&1 &
PIDS+=($!)

declare -A CANDIDATE=([off]=$CANDIDATE_PORT [healthy]=$CANDIDATE_PORT [hanging]=$HANG_PORT)
declare -A SHADOW=([off]="" [healthy]='shadow = { timeout = "5s" }' [hanging]='shadow = { timeout = "5s" }')
TARGETS=(off healthy hanging)
for target in "${TARGETS[@]}"; do
  cat > "$WORK/$target.toml" <<CONF
listen = "127.0.0.1:${PORT[$target]}"
admin = "127.0.0.1:${ADMIN[$target]}"
watch_config = "off"
[log]
target = "off"
[upstreams.monolith]
endpoints = ["http://127.0.0.1:$PRIMARY_PORT"]
[upstreams.service]
endpoints = ["http://127.0.0.1:${CANDIDATE[$target]}"]
[[routes]]
name = "all"
match = { prefix = "/" }
primary = "monolith"
candidate = "service"
weight = 0
${SHADOW[$target]}
[default]
primary = "monolith"
CONF
  taskset -c $SERVER_CPU "$STRANGLER" proxy --config "$WORK/$target.toml" --workers 1 \
    >"$WORK/$target.out" 2>&1 &
  PIDS+=($!)
done

for port in $PRIMARY_PORT "${PORT[@]}"; do
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  curl -sf -o /dev/null "http://127.0.0.1:$port/" || { echo "port $port does not answer"; exit 1; }
done

# Each connection waits 5 ms between its requests (wrk's latency excludes the wait).
cat > "$WORK/paced.lua" <<'LUA'
function delay()
  return 5
end
LUA

# wrk output -> "req/s p50_us p99_us errors"
parse() {
  awk '
    function us(v) { if (v ~ /us$/) return v+0; if (v ~ /ms$/) return (v+0)*1000; if (v ~ /s$/) return (v+0)*1000000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = us($2) }
    /^ +99%/ { p99 = us($2) }
    /Socket errors/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
    /Non-2xx/ { errors += $5 }
    END { printf "%.0f %.0f %.0f %d\n", rps, p50, p99, errors }'
}

# "compared matched dropped" of a target's route, so far.
shadow_counters() {
  curl -sf "http://127.0.0.1:${ADMIN[$1]}/routes" |
    jq -r '.routes[] | select(.name == "all") | .shadow // {compared: 0, matched: 0, dropped: 0} | "\(.compared) \(.matched) \(.dropped)"'
}

run() { # target load
  local before after script=() connections=64
  if [ "$2" = paced ]; then script=(-s "$WORK/paced.lua"); connections=16; fi
  before=$(shadow_counters "$1")
  local line
  line=$(taskset -c $LOAD_CPU wrk -t1 -c$connections -d"$SECONDS_PER_RUN"s --latency "${script[@]}" \
    "http://127.0.0.1:${PORT[$1]}/" | parse)
  after=$(shadow_counters "$1")
  local c0 m0 d0 c1 m1 d1
  read -r c0 m0 d0 <<<"$before"
  read -r c1 m1 d1 <<<"$after"
  # Mirrors to the hanging candidate end (time out) up to 5 s later: that count lags a run.
  echo "$line $((c1 - c0)) $((m1 - m0)) $((d1 - d0))"
}

echo "== machine: $(nproc) CPUs, load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- strangler-proxy src || echo ' (with local changes)')"
echo "== $ROUNDS rounds, ${SECONDS_PER_RUN}s per run, targets interleaved"
declare -A RESULTS
for round in $(seq "$ROUNDS"); do
  for load in paced saturating; do
    for target in "${TARGETS[@]}"; do
      line=$(run "$target" "$load")
      RESULTS[$load.$target]+="$line"$'\n'
      echo "round $round $load $target: $line  (req/s p50_us p99_us errors compared matched dropped)"
    done
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
spread() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }'; }
column_of() { printf '%s' "${RESULTS[$1]}" | awk -v c="$2" '{ print $c }'; }
echo
echo "| load | shadow | req/s | p50 us (median, range) | p99 us (median, range) | errors | mirrors compared / matched / dropped |"
echo "|---|---|---|---|---|---|---|"
for load in paced saturating; do
  for target in "${TARGETS[@]}"; do
    key=$load.$target
    rps=$(column_of "$key" 1 | median)
    p50="$(column_of "$key" 2 | median) ($(column_of "$key" 2 | spread))"
    p99="$(column_of "$key" 3 | median) ($(column_of "$key" 3 | spread))"
    errors=$(column_of "$key" 4 | awk '{ s += $1 } END { print s }')
    mirrors=$(printf '%s' "${RESULTS[$key]}" | awk '{ c += $5; m += $6; d += $7 } END { printf "%d / %d / %d", c, m, d }')
    echo "| $load | $target | $rps | $p50 | $p99 | $errors | $mirrors |"
  done
done
echo "== load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
