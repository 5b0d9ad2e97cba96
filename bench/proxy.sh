#!/usr/bin/env bash
# Benchmark strangler-proxy against nginx and HAProxy, and count requests lost to reloads.
#
# One run measures, interleaved and repeated: direct to the upstream, through nginx (1 worker,
# keepalive upstream pool, HTTP/1.1), through HAProxy (1 thread, http-reuse always) and through
# strangler-proxy (1 worker thread, a 50% weighted sticky route). Servers and proxies are pinned
# to CPU 0, the load generator (wrk -t1) to CPU 1. Then the reload test: 5 reloads of each proxy
# under wrk -c64, failed requests counted.
#
# Both modes also measure "nginx-same": nginx given strangler's job (the same 50%
# sticky split by x-user-id over both upstream ports, X-Forwarded-For/-Proto/-Host, X-Request-Id
# and traceparent set), beside the plain nginx of issue 7's goal, which forwards to one port and
# adds nothing.
#
# Usage: bench/proxy.sh [ROUNDS] [SECONDS]     (defaults: 3 rounds of 10 s per target)
#        bench/proxy.sh --instructions [SECONDS] (default 8 s per proxy)
#
# --instructions measures what does not depend on the machine's load: user-space instructions
# per request of each proxy (valgrind's callgrind, counting only while wrk -t1 -c64 runs, after a
# warm-up) and system calls per request (strace -c), same upstream, same requests; then CPU time
# per request (user and system, from /proc/PID/stat), which does move with the load.
#
# strangler-proxy runs as `strangler-proxy/examples/serve` (the very `serve_until_signal` that
# `strangler proxy` runs, without building the whole CLI), built with the `dist` profile
# (release + fat LTO).
# Needs root for apt-get when wrk, nginx, haproxy (or valgrind, strace) are missing. Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=throughput
if [ "${1:-}" = "--instructions" ]; then
  MODE=instructions
  shift
fi
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-10}
[ "$MODE" = instructions ] && SECONDS_PER_RUN=${1:-8}
SERVER_CPU=0
LOAD_CPU=1

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v haproxy >/dev/null || need+=(haproxy)
if [ "$MODE" = instructions ]; then
  command -v valgrind >/dev/null || need+=(valgrind)
  command -v strace >/dev/null || need+=(strace)
fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx)
HAPROXY=$(command -v haproxy)

cargo build --profile dist -q -p strangler-proxy --example serve
STRANGLER=${CARGO_TARGET_DIR:-$PWD/target}/dist/examples/serve

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx-up.pid" ] && kill "$(cat "$WORK/nginx-up.pid")" 2>/dev/null || true
  [ -f "$WORK/nginx-proxy.pid" ] && kill "$(cat "$WORK/nginx-proxy.pid")" 2>/dev/null || true
  [ -f "$WORK/nginx-same.pid" ] && kill "$(cat "$WORK/nginx-same.pid")" 2>/dev/null || true
  [ -f "$WORK/haproxy.pid" ] && kill "$(cat "$WORK/haproxy.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

UP_A=18181; UP_B=18182; NGINX_PORT=18183; HAPROXY_PORT=18184; STRANGLER_PORT=18185; ADMIN_PORT=18186
NGINX_SAME_PORT=18187

# A server left running on one of these ports (a profiling session, an interrupted run) would
# answer in place of ours, or make nginx fail with a bare "could not bind()": say which.
for port in $UP_A $UP_B $NGINX_PORT $HAPROXY_PORT $STRANGLER_PORT $ADMIN_PORT $NGINX_SAME_PORT; do
  if holder=$(ss -Hltnp "sport = :$port" 2>/dev/null) && [ -n "$holder" ]; then
    echo "port $port is already in use; stop what listens there first:" >&2
    echo "$holder" >&2
    exit 1
  fi
done

# One nginx worker's config, $WORK/NAME.conf: what goes inside its `http` block comes on stdin.
nginx_config() { # name
  {
    printf 'worker_processes 1;\npid %s/%s.pid;\nerror_log %s/%s.err warn;\n' "$WORK" "$1" "$WORK" "$1"
    printf 'events { worker_connections 4096; }\nhttp {\n  access_log off;\n  keepalive_requests 10000000;\n'
    cat
    printf '}\n'
  } >"$WORK/$1.conf"
}

# The fast upstream: an nginx worker answering a fixed 200 on two ports (the two sides of the route).
nginx_config nginx-up <<CONF
  server { listen 127.0.0.1:$UP_A; listen 127.0.0.1:$UP_B; location / { return 200 "hello\n"; } }
CONF
taskset -c $SERVER_CPU "$NGINX" -c "$WORK/nginx-up.conf" -p "$WORK" -g 'daemon on;'

nginx_config nginx-proxy <<CONF
  upstream up { server 127.0.0.1:$UP_A; keepalive 128; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
CONF

# nginx doing what the strangler route below does: users split 50/50 by a hash of x-user-id
# (split_clients), the client's address appended to X-Forwarded-For, X-Forwarded-Proto and
# -Host set, a request id generated, sent upstream and back, and a traceparent made from it
# (with a fixed span id: less work than strangler's random one). Host is nginx's default, the
# upstream group's name. Differences left: strangler keeps a valid X-Request-Id a client sends
# (wrk sends none) and counts per route and side for its metrics.
nginx_config nginx-same <<CONF
  upstream monolith { server 127.0.0.1:$UP_A; keepalive 128; keepalive_requests 10000000; }
  upstream service { server 127.0.0.1:$UP_B; keepalive 128; keepalive_requests 10000000; }
  split_clients "\${http_x_user_id}" \$side { 50% monolith; * service; }
  server {
    listen 127.0.0.1:$NGINX_SAME_PORT;
    location / {
      proxy_pass http://\$side;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header X-Request-Id \$request_id;
      proxy_set_header traceparent 00-\$request_id-00f067aa0ba902b7-01;
      add_header X-Request-Id \$request_id;
    }
  }
CONF

cat > "$WORK/haproxy.cfg" <<CONF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:$HAPROXY_PORT
  default_backend be
backend be
  server up 127.0.0.1:$UP_A
CONF

cat > "$WORK/strangler.toml" <<CONF
listen = "127.0.0.1:$STRANGLER_PORT"
admin = "127.0.0.1:$ADMIN_PORT"
watch_config = "off"
[log]
target = "off"
[upstreams.monolith]
endpoints = ["http://127.0.0.1:$UP_A"]
[upstreams.service]
endpoints = ["http://127.0.0.1:$UP_B"]
[[routes]]
name = "all"
match = { prefix = "/" }
primary = "monolith"
candidate = "service"
weight = 50
sticky = { header = "x-user-id" }
[default]
primary = "monolith"
CONF

# Every request carries a different user id, for every target alike, so the sticky route splits.
cat > "$WORK/users.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, { ["x-user-id"] = "user-" .. (n % 100000) })
end
LUA

wait_for() { # port [tries]
  for _ in $(seq "${2:-50}"); do curl -sf -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.1; done
  echo "port $1 does not answer"
  exit 1
}

declare -A PORT=([direct]=$UP_A [nginx]=$NGINX_PORT [haproxy]=$HAPROXY_PORT [strangler]=$STRANGLER_PORT
  [nginx-same]=$NGINX_SAME_PORT)
TARGETS=(direct nginx nginx-same haproxy strangler)

if [ "$MODE" = instructions ]; then
  wait_for $UP_A
  # Each proxy in the foreground, one at a time, as its own process (so valgrind and strace see it),
  # in a session of its own like the daemons of the throughput runs (see the note there).
  start_proxy() { # target [wrapper...]
    local target=$1
    shift
    case $target in
      nginx) taskset -c $SERVER_CPU setsid "$@" "$NGINX" -c "$WORK/nginx-proxy.conf" -p "$WORK" \
               -g 'daemon off; master_process off;' >"$WORK/$target.out" 2>&1 & ;;
      nginx-same) taskset -c $SERVER_CPU setsid "$@" "$NGINX" -c "$WORK/nginx-same.conf" -p "$WORK" \
               -g 'daemon off; master_process off;' >"$WORK/$target.out" 2>&1 & ;;
      haproxy) taskset -c $SERVER_CPU setsid "$@" "$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/$target.out" 2>&1 & ;;
      strangler) taskset -c $SERVER_CPU setsid "$@" "$STRANGLER" "$WORK/strangler.toml" 1 >"$WORK/$target.out" 2>&1 & ;;
    esac
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_for "${PORT[$target]}" 300
  }
  stop_proxy() { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; }
  load() { # target seconds
    taskset -c $LOAD_CPU wrk -t1 -c64 -d"$2"s -s "$WORK/users.lua" "http://127.0.0.1:${PORT[$1]}/"
  }
  echo "== user-space instructions per request (callgrind), wrk -t1 -c64 for ${SECONDS_PER_RUN}s after a 2 s warm-up"
  for target in nginx nginx-same haproxy strangler; do
    out="$WORK/callgrind.$target"
    start_proxy "$target" valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out"
    load "$target" 2 >/dev/null
    callgrind_control -i on "$PROXY_PID" >/dev/null 2>&1
    load "$target" "$SECONDS_PER_RUN" >"$WORK/wrk.$target"
    callgrind_control -i off "$PROXY_PID" >/dev/null 2>&1
    callgrind_control -d "$PROXY_PID" >/dev/null 2>&1
    sleep 1
    stop_proxy
    requests=$(awk '/requests in/ { print $1 }' "$WORK/wrk.$target")
    instructions=$(cat "$out"* | awk '/^totals:/ { s += $2 } END { print s }')
    echo "$target: $instructions instructions / $requests requests = $((instructions / requests)) per request"
  done
  echo "== system calls per request (strace -c -f), wrk -t1 -c64 for ${SECONDS_PER_RUN}s after a 1 s warm-up"
  for target in nginx nginx-same haproxy strangler; do
    start_proxy "$target"
    load "$target" 1 >/dev/null
    strace -c -f -p "$PROXY_PID" -o "$WORK/strace.$target" 2>/dev/null &
    strace_pid=$!
    sleep 0.5
    load "$target" "$SECONDS_PER_RUN" >"$WORK/wrk.$target"
    kill -INT "$strace_pid"
    wait "$strace_pid" 2>/dev/null || true
    stop_proxy
    requests=$(awk '/requests in/ { print $1 }' "$WORK/wrk.$target")
    awk -v r="$requests" -v t="$target" '
      NR > 2 && $NF != "total" && $4 + 0 > 0 { total += $4 }
      NR > 2 && $NF != "total" && $4 + 0 > 0 && $4 / r >= 0.01 { calls = calls sprintf(" %s %.2f", $NF, $4 / r) }
      END { printf "%s: %.2f per request:%s\n", t, total / r, calls }' "$WORK/strace.$target"
  done
  echo "== CPU time per request (user and system time of the proxy from /proc/PID/stat), wrk -t1 -c64 for ${SECONDS_PER_RUN}s"
  echo "   (this one moves with the machine's load; interleaved, 3 rounds)"
  ticks=$(getconf CLK_TCK)
  for round in 1 2 3; do
    for target in nginx nginx-same haproxy strangler; do
      start_proxy "$target"
      load "$target" 1 >/dev/null
      read -r user1 system1 < <(awk '{ print $14, $15 }' "/proc/$PROXY_PID/stat")
      load "$target" "$SECONDS_PER_RUN" >"$WORK/wrk.$target"
      read -r user2 system2 < <(awk '{ print $14, $15 }' "/proc/$PROXY_PID/stat")
      stop_proxy
      requests=$(awk '/requests in/ { print $1 }' "$WORK/wrk.$target")
      awk -v t="$target" -v r="$requests" -v u=$((user2 - user1)) -v s=$((system2 - system1)) -v hz="$ticks" -v n="$round" \
        'BEGIN { printf "round %d %s: %.1f us user + %.1f us system per request (%d requests)\n", n, t, u / hz * 1e6 / r, s / hz * 1e6 / r, r }'
    done
  done
  exit 0
fi

taskset -c $SERVER_CPU "$NGINX" -c "$WORK/nginx-proxy.conf" -p "$WORK" -g 'daemon on;'
taskset -c $SERVER_CPU "$NGINX" -c "$WORK/nginx-same.conf" -p "$WORK" -g 'daemon on;'
taskset -c $SERVER_CPU "$HAPROXY" -W -D -f "$WORK/haproxy.cfg" -p "$WORK/haproxy.pid"
# nginx and HAProxy daemonize, which puts each in a session of its own; strangler-proxy gets one
# too (setsid). Otherwise it would share this script's session with wrk, and with the kernel's
# autogroup scheduling a session is one group whose CPU weight is split across the CPUs its
# tasks run on: the proxy would get about half the weight of the upstream on CPU 0, be preempted
# by it about 0.8 times per request instead of 0.3, and lose a fifth of its throughput (measured
# with nginx itself run in this session; see docs/PERFORMANCE.md, 2026-12-02 evening).
taskset -c $SERVER_CPU setsid "$STRANGLER" "$WORK/strangler.toml" 1 >"$WORK/strangler.out" 2>&1 &
STRANGLER_PID=$!
PIDS+=("$STRANGLER_PID")
for port in $UP_A $NGINX_PORT $NGINX_SAME_PORT $HAPROXY_PORT $STRANGLER_PORT; do wait_for "$port"; done
# Each proxy leads a session of its own (field 6 of /proc/PID/stat is the session id).
for pid in "$(cat "$WORK/nginx-proxy.pid")" "$(cat "$WORK/nginx-same.pid")" "$(cat "$WORK/haproxy.pid")" "$STRANGLER_PID"; do
  session=$(awk '{ print $6 }' "/proc/$pid/stat")
  [ "$session" = "$pid" ] || [ "$session" != "$(awk '{ print $6 }' /proc/$$/stat)" ] || {
    echo "process $pid shares the benchmark's session; the comparison would not be fair"
    exit 1
  }
done

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

run_wrk() { # target connections seconds
  taskset -c $LOAD_CPU wrk -t1 -c"$2" -d"$3"s --latency -s "$WORK/users.lua" "http://127.0.0.1:${PORT[$1]}/" | parse
}

echo "== machine: $(nproc) CPUs, load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== throughput and latency: wrk -t1 -c64, ${SECONDS_PER_RUN}s per run, $ROUNDS rounds interleaved"
echo "   (the order of the targets rotates from round to round, so none always runs after the same one)"
# The targets of round N, rotated by N places.
rotated() { local n=$1 i; for i in "${!TARGETS[@]}"; do echo "${TARGETS[(i + n) % ${#TARGETS[@]}]}"; done; }
declare -A RESULTS
RATIOS=""
SAME_RATIOS=""
for round in $(seq "$ROUNDS"); do
  declare -A THIS_ROUND=()
  for target in $(rotated "$round"); do
    line=$(run_wrk "$target" 64 "$SECONDS_PER_RUN")
    RESULTS[$target]+="$line"$'\n'
    THIS_ROUND[$target]=${line%% *}
    echo "round $round $target: $line   (req/s p50_us p99_us errors)"
  done
  ratio=$(awk -v a="${THIS_ROUND[strangler]}" -v b="${THIS_ROUND[nginx]}" 'BEGIN { printf "%.2f", a / b }')
  RATIOS+="$ratio"$'\n'
  same=$(awk -v a="${THIS_ROUND[strangler]}" -v b="${THIS_ROUND[nginx-same]}" 'BEGIN { printf "%.2f", a / b }')
  SAME_RATIOS+="$same"$'\n'
  echo "round $round: strangler / nginx = $ratio, strangler / nginx-same = $same"
done
echo "== one connection (hop latency): wrk -t1 -c1, ${SECONDS_PER_RUN}s per run"
declare -A SINGLE
for round in $(seq "$ROUNDS"); do
  for target in $(rotated "$round"); do
    line=$(run_wrk "$target" 1 "$SECONDS_PER_RUN")
    SINGLE[$target]+="$line"$'\n'
    echo "round $round $target -c1: $line"
  done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo
echo "| target | req/s (median) | x direct | p50 us | p99 us | errors | -c1 p50 us | -c1 p99 us |"
echo "|---|---|---|---|---|---|---|---|"
direct_rps=$(printf '%s' "${RESULTS[direct]}" | awk '{print $1}' | median)
for target in "${TARGETS[@]}"; do
  rps=$(printf '%s' "${RESULTS[$target]}" | awk '{print $1}' | median)
  p50=$(printf '%s' "${RESULTS[$target]}" | awk '{print $2}' | median)
  p99=$(printf '%s' "${RESULTS[$target]}" | awk '{print $3}' | median)
  errors=$(printf '%s' "${RESULTS[$target]}" | awk '{s += $4} END {print s}')
  c1p50=$(printf '%s' "${SINGLE[$target]}" | awk '{print $2}' | median)
  c1p99=$(printf '%s' "${SINGLE[$target]}" | awk '{print $3}' | median)
  ratio=$(awk -v a="$rps" -v b="$direct_rps" 'BEGIN { printf "%.2f", a / b }')
  echo "| $target | $rps | $ratio | $p50 | $p99 | $errors | $c1p50 | $c1p99 |"
done

echo
echo "strangler / nginx req/s at -c64, per round: $(printf '%s' "$RATIOS" | tr '\n' ' ')(median $(printf '%s' "$RATIOS" | median))"
echo "strangler / nginx-same req/s at -c64, per round: $(printf '%s' "$SAME_RATIOS" | tr '\n' ' ')(median $(printf '%s' "$SAME_RATIOS" | median))"

echo
echo "== reload test: 5 reloads during wrk -t1 -c64 -d12s, failed requests (socket errors + non-2xx)"
reload_nginx() { "$NGINX" -c "$WORK/nginx-proxy.conf" -p "$WORK" -s reload; }
reload_haproxy() { kill -USR2 "$(cat "$WORK/haproxy.pid")"; }
reload_strangler() { kill -HUP "$STRANGLER_PID"; }
for target in nginx haproxy strangler; do
  for round in $(seq "$ROUNDS"); do
    out="$WORK/reload-$target-$round.txt"
    taskset -c $LOAD_CPU wrk -t1 -c64 -d12s --latency -s "$WORK/users.lua" "http://127.0.0.1:${PORT[$target]}/" >"$out" &
    wrk_pid=$!
    sleep 1
    for _ in 1 2 3 4 5; do "reload_$target"; sleep 2; done
    wait "$wrk_pid"
    echo "$target round $round: $(parse <"$out")   (req/s p50_us p99_us FAILED)"
  done
done
echo "== load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
