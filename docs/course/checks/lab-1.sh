#!/usr/bin/env bash
# Checkpoint of lab 1: the monolith runs, answers its API, and holds the review and the booking
# the lab asked you to make.
#
#   docs/course/checks/lab-1.sh [URL]        (default $CINEMA_URL, else http://127.0.0.1:3000)
#
# Prints PASS or FAIL with the reason; exits 0 on PASS, 1 on FAIL.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need curl awk

url="${1:-${CINEMA_URL:-http://127.0.0.1:3000}}"
url="${url%/}"
loopback_url "$url"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "lab 1: checking the monolith at $url"

# 1. It runs: /healthz answers within 10 seconds (it may still be starting).
wait_http "$url/healthz" "${CHECK_WAIT_SECONDS:-10}" ||
  fail "nothing answers at $url/healthz within ${CHECK_WAIT_SECONDS:-10} s: is sample-monolith running, and on that port? (start it with \`target/release/sample-monolith --addr ${url#http://} --db /tmp/cinema.db\`)"
code=$(http_get "$url/healthz" "$work/health.json")
json_flat "$work/health.json" >"$work/health" 2>/dev/null || fail "$url/healthz did not answer JSON: is this the sample monolith?"
[ "$(jget "$work/health" .status)" = ok ] && [ "$(jget "$work/health" .database)" = ok ] ||
  fail "$url/healthz answered $code but not {\"status\":\"ok\",\"database\":\"ok\"}: $(cat "$work/health.json")"
note "health: ok, database ok"

# 2. It answers its API: the seeded catalog is there.
code=$(http_get "$url/api/movies?per_page=100" "$work/movies.json")
[ "$code" = 200 ] || fail "GET /api/movies answered $code, expected 200"
json_flat "$work/movies.json" >"$work/movies" || fail "GET /api/movies did not answer JSON"
total=$(jget "$work/movies" .total)
[ -n "$total" ] && [ "$total" -ge 6 ] ||
  fail "GET /api/movies lists ${total:-no} movies; the seed has 6 (did you delete some? start again on a new --db file)"
note "catalog: $total movies"

# 3. Your review is there, and every movie's stored average matches its reviews (one database,
#    one transaction: in the monolith, the two can never disagree).
reviews=0
movies_with_reviews=0
for i in $(jlist "$work/movies" '^\.items\[[0-9]+\]\.id$' | awk '{ print NR - 1 }'); do
  id=$(jget "$work/movies" ".items[$i].id")
  count=$(jget "$work/movies" ".items[$i].review_count")
  average=$(jget "$work/movies" ".items[$i].average_rating")
  reviews=$((reviews + count))
  [ "$count" -gt 0 ] || continue
  movies_with_reviews=$((movies_with_reviews + 1))
  code=$(http_get "$url/api/movies/$id/reviews?per_page=100" "$work/r.json")
  [ "$code" = 200 ] || fail "GET /api/movies/$id/reviews answered $code, expected 200"
  json_flat "$work/r.json" >"$work/r" || fail "GET /api/movies/$id/reviews did not answer JSON"
  [ "$(jget "$work/r" .total)" = "$count" ] ||
    fail "movie $id: the catalog says $count reviews, its reviews list has $(jget "$work/r" .total)"
  mean=$(jlist "$work/r" '^\.items\[[0-9]+\]\.rating$' | awk '{ s += $1; n++ } END { if (n) printf "%.2f", s / n }')
  awk -v a="$average" -v m="$mean" 'BEGIN { d = a - m; if (d < 0) d = -d; exit !(a != "null" && d < 0.006) }' ||
    fail "movie $id: stored average_rating $average, but its reviews average $mean"
done
note "reviews: $reviews in all, averages consistent on $movies_with_reviews movies"
[ "$reviews" -gt 3 ] ||
  fail "only the 3 seeded reviews exist: post a review of your own (lab 1, step 5)"

# 4. Your booking is there.
code=$(http_get "$url/api/bookings/1" "$work/booking.json")
[ "$code" = 200 ] || fail "there is no booking yet (GET /api/bookings/1 answered $code): book a seat (lab 1, step 6)"
json_flat "$work/booking.json" >"$work/booking" || fail "GET /api/bookings/1 did not answer JSON"
note "booking 1: $(jget "$work/booking" .status), $(jget "$work/booking" .total_cents) cents for showtime $(jget "$work/booking" .showtime.id)"

pass "the monolith at $url runs, answers, and holds your review and your booking"
