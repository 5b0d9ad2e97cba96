#!/usr/bin/env bash
# Sends a bounded burst of review reads (and, with --writes, a few review posts) to the proxy or
# any server with the monolith's API, as many users would, and counts the answers.
#
#   docs/course/tools/traffic.sh [--url URL] [--requests N | --seconds S] [--users U] [--writes]
#
# URL defaults to $PROXY_URL, else http://127.0.0.1:8080; N to 400 (at most 100000); U to 20.
# With --seconds, batches of 100 requests go on until S seconds have passed (at most 600).
# Each request carries `x-user-id: user-K` (K in 1..U), so a sticky route keeps each user on one
# side. Reads cycle through GET /api/movies/{1..6}/reviews and GET /api/reviews/{1..3}. With
# --writes, every 50th request is a POST of a review by a new customer signed up for it.
# Prints a summary; exits 0 when no request got a 5xx or no answer, 1 otherwise.
set -euo pipefail
# shellcheck source=../checks/lib.sh
source "$(dirname "$0")/../checks/lib.sh"
need curl awk

url="${PROXY_URL:-http://127.0.0.1:8080}"
requests=400
seconds=0
users=20
writes=no
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="${2:?--url needs a value}"; shift 2 ;;
    --requests) requests="${2:?--requests needs a value}"; shift 2 ;;
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --users) users="${2:?--users needs a value}"; shift 2 ;;
    --writes) writes=yes; shift ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown argument \`$1\` (see --help)" >&2; exit 2 ;;
  esac
done
case "$requests$users$seconds" in *[!0-9]*) echo "--requests, --seconds and --users take whole numbers" >&2; exit 2 ;; esac
[ "$seconds" -le 600 ] || { echo "--seconds must be at most 600" >&2; exit 2; }
if [ "$seconds" -gt 0 ]; then
  requests=100000
  deadline=$(($(date +%s) + seconds))
fi
[ "$requests" -ge 1 ] && [ "$requests" -le 100000 ] || { echo "--requests must be 1-100000" >&2; exit 2; }
[ "$users" -ge 1 ] || { echo "--users must be at least 1" >&2; exit 2; }
url="${url%/}"
loopback_url "$url"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One curl process per batch of 100 requests, each request with its own user header, over
# kept-alive connections; `%{http_code}` is 000 when there was no answer.
batch=100
sent=0
run_id="$$-$(date +%s)"
: >"$work/codes"
while [ "$sent" -lt "$requests" ]; do
  if [ "$seconds" -gt 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then
    break
  fi
  : >"$work/batch.cfg"
  n=0
  while [ "$n" -lt "$batch" ] && [ "$sent" -lt "$requests" ]; do
    user=$((sent % users + 1))
    [ "$n" -gt 0 ] && echo 'next' >>"$work/batch.cfg"
    if [ "$writes" = yes ] && [ $((sent % 50)) -eq 49 ]; then
      # A new customer for each post, so the post is never a duplicate review.
      email="t-$run_id-$sent@example.org"
      cid=$(curl -s --max-time 5 -X POST "$url/api/customers" -H 'content-type: application/json' \
        -d "{\"email\":\"$email\",\"full_name\":\"Traffic $sent\",\"birth_date\":\"1990-01-01\"}" |
        sed -n 's/^{"id":\([0-9]*\).*/\1/p')
      cat >>"$work/batch.cfg" <<CFG
url = "$url/api/movies/$((sent % 6 + 1))/reviews"
request = "POST"
header = "content-type: application/json"
header = "x-user-id: user-$user"
data = "{\"customer_id\": ${cid:-0}, \"rating\": $((sent % 5 + 1)), \"title\": \"traffic\", \"body\": \"\"}"
CFG
    elif [ $((sent % 3)) -eq 2 ]; then
      printf 'url = "%s/api/reviews/%d"\nheader = "x-user-id: user-%d"\n' "$url" $((sent % 9 / 3 + 1)) "$user" >>"$work/batch.cfg"
    else
      printf 'url = "%s/api/movies/%d/reviews"\nheader = "x-user-id: user-%d"\n' "$url" $((sent % 6 + 1)) "$user" >>"$work/batch.cfg"
    fi
    printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\nsilent\nconnect-timeout = 2\nmax-time = 10\n' >>"$work/batch.cfg"
    n=$((n + 1))
    sent=$((sent + 1))
  done
  curl -K "$work/batch.cfg" >>"$work/codes" 2>/dev/null || true
done

awk -v total="$sent" '
  /^2/ { ok++ } /^4/ { client++ } /^429$/ { throttled++ } /^5/ { server++ } /^000$/ { none++ }
  END {
    printf "%d requests: %d 2xx, %d 4xx (%d throttled), %d 5xx, %d without an answer\n",
      total, ok, client, throttled, server, none
    if (server + none > 0 || ok + client + server + none != total) exit 1
  }' "$work/codes"
