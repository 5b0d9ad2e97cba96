#!/usr/bin/env bash
# Checkpoint of lab 3: the scaffolded service has no `TODO(strangler)` left, no stub body left,
# and its tests pass, including the contract test against the running monolith.
#
#   docs/course/checks/lab-3.sh [SERVICE_DIR]     (default /tmp/reviews-service)
#
# MONOLITH_URL (default http://127.0.0.1:3000) and MONOLITH_DB (default /tmp/cinema.db) name the
# monolith of lab 1, which must be running: the contract test compares the service's answers
# with its. LAB3_SKIP_CARGO=1 checks the sources only (it then never prints PASS). Prints PASS
# or FAIL with the reason; exits 0 on PASS, 1 on FAIL.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need grep curl

dir="${1:-/tmp/reviews-service}"
monolith="${MONOLITH_URL:-http://127.0.0.1:3000}"
monolith="${monolith%/}"
monolith_db="${MONOLITH_DB:-/tmp/cinema.db}"

echo "lab 3: checking the service in $dir"
[ -f "$dir/Cargo.toml" ] && [ -d "$dir/src" ] && [ -f "$dir/strangler.route.toml" ] ||
  fail "$dir is not a scaffolded service (no Cargo.toml, src/ or strangler.route.toml): run step 1"

# Markers the scaffold wrote at every bridged and stubbed function.
todos=$(grep -rn 'TODO(strangler):' "$dir/src" "$dir/tests" 2>/dev/null || true)
if [ -n "$todos" ]; then
  count=$(printf '%s\n' "$todos" | wc -l | tr -d ' ')
  printf '%s\n' "$todos" | head -5 | sed "s|^$dir/|  - |; s|//.*TODO|TODO|" | cut -c1-150
  fail "$count TODO(strangler) marker(s) left: review each bridge and complete each stub (steps 4 and 5), then delete the marker"
fi
note "no TODO(strangler) marker left"

# A marker deleted over a body that still is the stub.
stubs=$(grep -rln 'not available in this service yet\|unimplemented!' "$dir/src" 2>/dev/null || true)
[ -z "$stubs" ] ||
  fail "a stub body is still there (\"not available in this service yet\" or unimplemented!) in: $(echo "$stubs" | tr "\n" " ")"
note "no stub body left"

if [ "${LAB3_SKIP_CARGO:-0}" = 1 ]; then
  fail "sources are clean; cargo test was not run (LAB3_SKIP_CARGO=1)"
fi

loopback_url "$monolith"
wait_http "$monolith/healthz" "${CHECK_WAIT_SECONDS:-5}" ||
  fail "the monolith does not answer at $monolith: start it as in lab 1 (the contract test compares against it)"
[ -f "$monolith_db" ] || fail "no monolith database at $monolith_db: set MONOLITH_DB to the --db file of lab 1"
need cargo
echo "  - running cargo test in $dir (the first build takes a few minutes)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! (cd "$dir" && MONOLITH_URL="$monolith" MONOLITH_DB="$monolith_db" cargo test --quiet) >"$log" 2>&1; then
  grep -E '^(test .*FAILED|---- |thread .* panicked|error(\[|:))' "$log" | head -15 | sed 's/^/    /'
  fail "cargo test failed in $dir (the full output: cd $dir && cargo test)"
fi
grep -E '^test result:' "$log" | sed 's/^/    /'
pass "the service has no stub left and its tests, contract test included, pass"
