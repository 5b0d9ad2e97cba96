#!/usr/bin/env bash
# Checkpoint of lab 5: the reviews service's store and the monolith's agree. For every movie of
# the catalog it asks both sides for the movie's reviews (the whole list, its average, its star
# histogram) through their public APIs and compares the answers.
#
#   docs/course/checks/lab-5.sh [MONOLITH_URL] [SERVICE_URL]
#
# Defaults: $MONOLITH_URL else http://127.0.0.1:3000, $SERVICE_URL else http://127.0.0.1:4002.
# Prints PASS or FAIL with the differences; exits 0 on PASS, 1 on FAIL.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need curl awk diff

monolith="${1:-${MONOLITH_URL:-http://127.0.0.1:3000}}"
service="${2:-${SERVICE_URL:-http://127.0.0.1:4002}}"
monolith="${monolith%/}"
service="${service%/}"
loopback_url "$monolith"
loopback_url "$service"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "lab 5: comparing the reviews of $monolith (monolith) and $service (service)"
wait_http "$monolith/healthz" "${CHECK_WAIT_SECONDS:-5}" || fail "the monolith does not answer at $monolith/healthz"
wait_http "$service/healthz" "${CHECK_WAIT_SECONDS:-5}" || fail "the service does not answer at $service/healthz: is it running?"

code=$(http_get "$monolith/api/movies?per_page=100" "$work/movies.json")
[ "$code" = 200 ] || fail "GET $monolith/api/movies answered $code"
json_flat "$work/movies.json" >"$work/movies" || fail "the catalog is not JSON"
ids=$(jlist "$work/movies" '^\.items\[[0-9]+\]\.id$')
[ -n "$ids" ] || fail "the catalog is empty"

movies=0
reviews=0
differ=0
for id in $ids; do
  movies=$((movies + 1))
  for side in monolith service; do
    base="$monolith"
    [ "$side" = service ] && base="$service"
    code=$(http_get "$base/api/movies/$id/reviews?per_page=100" "$work/$side.json")
    [ "$code" = 200 ] || fail "GET $base/api/movies/$id/reviews answered $code ($(head -c 200 "$work/$side.json"))"
    json_flat "$work/$side.json" >"$work/$side" || fail "$side: the reviews of movie $id are not JSON"
  done
  reviews=$((reviews + $(jget "$work/monolith" .total)))
  if ! diff -q "$work/monolith" "$work/service" >/dev/null; then
    differ=$((differ + 1))
    only_m=$(jlist "$work/monolith" '^\.items\[[0-9]+\]\.id$' | sort >"$work/m-ids"; jlist "$work/service" '^\.items\[[0-9]+\]\.id$' | sort >"$work/s-ids"; comm -23 "$work/m-ids" "$work/s-ids" | sort -n | paste -sd, -)
    only_s=$(comm -13 "$work/m-ids" "$work/s-ids" | sort -n | paste -sd, -)
    detail=""
    [ -n "$only_m" ] && detail="review(s) $only_m only in the monolith"
    [ -n "$only_s" ] && detail="${detail:+$detail; }review(s) $only_s only in the service"
    if [ -z "$detail" ]; then
      detail=$(diff "$work/monolith" "$work/service" | awk '/^[<>]/ { sub(/^< /, "monolith "); sub(/^> /, "service "); print }' | head -2 | paste -sd';' -)
    fi
    note "movie $id: $detail"
  fi
done

[ "$differ" -eq 0 ] ||
  fail "the two stores disagree on $differ of $movies movies: bring the service up to date (copy-from) or find which side took the write"
pass "the service and the monolith agree on all $reviews reviews of $movies movies"
