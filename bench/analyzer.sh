#!/usr/bin/env bash
# Benchmark of the analyzer's code model against a bare `syn::parse_file` over the same files.
# Not part of CI. Usage:
#   bench/analyzer.sh                     # synthetic monolith of 500k lines
#   LINES=1000000 bench/analyzer.sh       # another size
#   TREE=~/.cargo/registry/src bench/analyzer.sh   # a real tree instead
#   ROUNDS=3 bench/analyzer.sh            # repeat each measurement (the machine may be busy)
# Prints, per run, lines/s (from the driver) and wall time and peak RSS (from /usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/.."

LINES=${LINES:-500000}
ROUNDS=${ROUNDS:-1}
TREE=${TREE:-}

cargo build --release -q -p analyzer --example model_bench
BIN=target/release/examples/model_bench
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

if [ -z "$TREE" ]; then
  "$BIN" generate "$WORK/synthetic" "$LINES"
  TREE="$WORK/synthetic"
fi

measure() {
  /usr/bin/time -v "$@" 2>"$WORK/time.txt" | sed 's/^/  /'
  grep -E "Elapsed \(wall|Maximum resident" "$WORK/time.txt" | sed -E 's/^\s+/    /'
}

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  measure "$BIN" parse "$TREE"
  measure "$BIN" model "$TREE" 1
  measure "$BIN" model "$TREE" 2
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
