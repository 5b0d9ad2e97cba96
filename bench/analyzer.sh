#!/usr/bin/env bash
# Benchmark of the analyzer's code model against a bare `syn::parse_file` over the same files.
# Not part of CI. Usage:
#   bench/analyzer.sh                     # synthetic monolith of 500k lines
#   LINES=1000000 bench/analyzer.sh       # another size
#   TREE=~/.cargo/registry/src bench/analyzer.sh   # a real tree instead
#   ROUNDS=3 bench/analyzer.sh            # repeat each measurement (the machine may be busy)
#   CALLGRIND=1 LINES=60000 bench/analyzer.sh      # instruction counts instead of wall time
#   PIN=1 ROUNDS=11 bench/analyzer.sh      # the one-thread runs (bare parse and model) pinned to
#                                          # CPU 1 with taskset; the two-thread run is not pinned
# Prints, per run, lines/s (from the driver), wall, user and system time and peak RSS (from
# /usr/bin/time), then each round's ratios to its bare parse and their medians.
# With CALLGRIND=1 it prints instructions counted by valgrind's callgrind, which do not depend on
# the machine's load: the bare parse, the model on one thread, and the model on two threads
# split per thread (the serial part on the calling thread plus the busiest worker is the
# critical path when two cores are free).
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${LINES:-500000}
ROUNDS=${ROUNDS:-1}
TREE=${TREE:-}
CALLGRIND=${CALLGRIND:-}
PIN=${PIN:-}
ONE_CPU=()
[ -n "$PIN" ] && ONE_CPU=(taskset -c "$PIN")

cargo build --release -q -p analyzer --example model_bench
BIN=${CARGO_TARGET_DIR:-target}/release/examples/model_bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ -z "$TREE" ]; then
  "$BIN" generate "$WORK/synthetic" "$LINES"
  TREE="$WORK/synthetic"
fi

# Runs one measurement, prints the driver's line and the process's times; leaves its wall
# seconds in $WORK/wall and its user CPU seconds in $WORK/user.
measure() {
  /usr/bin/time -f '%e %U %S %M' -o "$WORK/time.txt" "$@" | sed 's/^/  /'
  read -r wall user system rss <"$WORK/time.txt"
  echo "    wall $wall s, user $user s, system $system s, peak RSS $((rss / 1024)) MB"
  echo "$wall" >"$WORK/wall"
  echo "$user" >"$WORK/user"
}

# Instructions of one callgrind run: the total, or with several threads one line per thread.
instructions() {
  local name=$1
  shift
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$WORK/$name.cg" \
    "$@" >/dev/null 2>"$WORK/$name.log"
  for file in "$WORK/$name".cg-*; do
    printf '%s %s\n' "${file##*-}" "$(grep -E '^(summary|totals):' "$file" | head -1 | awk '{print $2}')"
  done | sort
}

if [ -n "$CALLGRIND" ]; then
  echo "instructions (callgrind), tree $TREE"
  bare=$(instructions parse "$BIN" parse "$TREE" | awk '{s += $2} END {printf "%.0f", s}')
  one=$(instructions one "$BIN" model "$TREE" 1 | awk '{s += $2} END {printf "%.0f", s}')
  echo "  bare syn::parse_file, 1 thread: $bare"
  echo "  build_model, 1 thread:          $one ($(awk -v a="$one" -v b="$bare" 'BEGIN {printf "%.3fx", a / b}'))"
  instructions two "$BIN" model "$TREE" 2 >"$WORK/two.txt"
  # Thread 01 is the caller (serial parts); the others are the pool's workers.
  awk -v bare="$bare" '
    $1 == "01" { serial = $2 }
    $1 != "01" { if ($2 > busiest) busiest = $2; workers += $2 }
    END {
      path = serial + busiest
      printf "  build_model, 2 threads:         %.0f in all; caller %.0f + busiest worker %.0f = %.0f on the critical path (%.3fx the bare parse)\n", serial + workers, serial, busiest, path, path / bare
    }' "$WORK/two.txt"
  exit 0
fi

# Wall time on a shared machine drifts by a third from one minute to the next, so each round
# runs the three back to back (in an order that rotates from round to round) and is compared
# within itself: the ratios of the round, and their medians over the rounds.
echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
RUNS=(parse one two)
ONE_RATIOS=""
TWO_RATIOS=""
ONE_USER_RATIOS=""
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  declare -A WALL=()
  declare -A USER=()
  for i in 0 1 2; do
    run=${RUNS[(i + round) % 3]}
    case $run in
      parse) measure "${ONE_CPU[@]}" "$BIN" parse "$TREE" ;;
      one) measure "${ONE_CPU[@]}" "$BIN" model "$TREE" 1 ;;
      two) measure "$BIN" model "$TREE" 2 ;;
    esac
    WALL[$run]=$(cat "$WORK/wall")
    USER[$run]=$(cat "$WORK/user")
  done
  one=$(awk -v a="${WALL[one]}" -v b="${WALL[parse]}" 'BEGIN { printf "%.2f", a / b }')
  two=$(awk -v a="${WALL[two]}" -v b="${WALL[parse]}" 'BEGIN { printf "%.2f", a / b }')
  one_user=$(awk -v a="${USER[one]}" -v b="${USER[parse]}" 'BEGIN { printf "%.2f", a / b }')
  ONE_RATIOS+="$one"$'\n'
  TWO_RATIOS+="$two"$'\n'
  ONE_USER_RATIOS+="$one_user"$'\n'
  echo "  round $round against the bare parse: model 1 thread ${one}x (user time ${one_user}x), 2 threads ${two}x"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
echo "model, 1 thread, against the same round's bare parse: $(printf '%s' "$ONE_RATIOS" | sort -n | tr '\n' ' ')(median $(printf '%s' "$ONE_RATIOS" | median)x)"
# User CPU time leaves out the time the virtual machine's host ran something else on this CPU
# (the guest counts that as steal), which wall time cannot; with both runs on one thread it
# measures the same work.
echo "model, 1 thread, user CPU time against the bare parse's: $(printf '%s' "$ONE_USER_RATIOS" | sort -n | tr '\n' ' ')(median $(printf '%s' "$ONE_USER_RATIOS" | median)x)"
echo "model, 2 threads, against the same round's bare parse: $(printf '%s' "$TWO_RATIOS" | sort -n | tr '\n' ' ')(median $(printf '%s' "$TWO_RATIOS" | median)x)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
