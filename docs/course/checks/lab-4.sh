#!/usr/bin/env bash
# Checkpoint of lab 4: the reviews routes were shadowed, a rollback fired on them (the broken
# release), and they are now at 100 % on a healthy reviews service.
#
#   docs/course/checks/lab-4.sh [ADMIN_URL] [ROUTE_GROUP]
#
# ADMIN_URL defaults to $STRANGLER_ADMIN, else http://127.0.0.1:9090 (the proxy's admin API);
# ROUTE_GROUP to reviews (the routes named `reviews` or `reviews-N`). Reads
# `strangler status --json`. Prints PASS or FAIL with the reason; exits 0 on PASS, 1 on FAIL.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need curl awk

admin="${1:-${STRANGLER_ADMIN:-http://127.0.0.1:9090}}"
admin="${admin%/}"
group="${2:-reviews}"
loopback_url "$admin"
find_bin strangler
strangler="$FOUND"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "lab 4: checking the $group routes on the proxy whose admin API is $admin"
"$strangler" status --json --admin "$admin" >"$work/status.json" 2>"$work/err" ||
  fail "\`strangler status --admin $admin\` failed: $(cat "$work/err") (is \`strangler proxy\` running?)"
json_flat "$work/status.json" >"$work/s" || fail "strangler status did not print JSON"

# The group's routes: their indexes in .routes.
indexes=$(awk -F '\t' -v g="$group" '
  $1 ~ /^\.routes\[[0-9]+\]\.name$/ {
    name = $2; gsub(/"/, "", name)
    if (name == g || name ~ ("^" g "-[0-9]+$")) { i = $1; sub(/^\.routes\[/, "", i); sub(/\].*/, "", i); print i }
  }' "$work/s")
[ -n "$indexes" ] || fail "the proxy has no route named $group or $group-N: is it running lab-4.toml?"

candidate=""
compared=0
breaches=0
candidate_requests=0
for i in $indexes; do
  name=$(jget "$work/s" ".routes[$i].name")
  weight=$(jget "$work/s" ".routes[$i].weight")
  candidate=$(jget "$work/s" ".routes[$i].candidate")
  [ "$candidate" != null ] || fail "route $name has no candidate upstream"
  compared=$((compared + $(jget "$work/s" ".routes[$i].shadow.compared" | sed 's/^null$/0/; s/^$/0/')))
  breaches=$((breaches + $(jget "$work/s" ".routes[$i].breaches")))
  candidate_requests=$((candidate_requests + $(jget "$work/s" ".routes[$i].candidate_side.requests")))
  note "$name: weight $weight%, $(jget "$work/s" ".routes[$i].breaches") rollback(s), $(jget "$work/s" ".routes[$i].candidate_side.requests") requests to $candidate"
done

# In the order of the lab's steps.
[ "$compared" -gt 0 ] ||
  fail "no request was ever shadowed on the $group routes: do the shadow step (step 4) with traffic"
[ "$candidate_requests" -gt 0 ] || fail "the candidate never served a request: do the canary step (step 5)"
[ "$breaches" -gt 0 ] ||
  fail "no rollback has fired on the $group routes yet: do the broken-release step (step 6)"
for i in $indexes; do
  name=$(jget "$work/s" ".routes[$i].name")
  weight=$(jget "$work/s" ".routes[$i].weight")
  [ "$weight" = 100 ] || fail "route $name is at $weight %, not 100 %: finish the cutover (step 7)"
  current=$(jget "$work/s" ".routes[$i].breach")
  [ "$current" = null ] || fail "route $name still shows a breach: $current"
done

# The candidate's instances are all up.
u=$(awk -F '\t' -v c="\"$candidate\"" '$1 ~ /^\.upstreams\[[0-9]+\]\.name$/ && $2 == c { sub(/^\.upstreams\[/, "", $1); sub(/\].*/, "", $1); print $1; exit }' "$work/s")
[ -n "$u" ] || fail "upstream $candidate is not in the status"
down=$(awk -F '\t' -v p="^\\\\.upstreams\\\\[$u\\\\]\\\\.endpoints\\\\[[0-9]+\\\\]\\\\.healthy$" '$1 ~ p && $2 != "true" { n++ } END { print n + 0 }' "$work/s")
[ "$down" -eq 0 ] || fail "$down instance(s) of $candidate are down: is your reviews service running?"
note "shadowed $compared requests, $breaches rollback(s) in all, $candidate instances up"

pass "the $group routes are at 100 % on $candidate after $breaches rollback(s)"
