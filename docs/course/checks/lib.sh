# shellcheck shell=bash
# Shared helpers of the course's checkpoint scripts (sourced, not run).
#
# The checks need nothing beyond bash, curl and the POSIX text tools (grep, sed, awk), so a
# student's machine with a Rust toolchain can run them without installing jq or Python: JSON is
# read with `json_flat`, a small awk parser that prints one `path<TAB>value` line per scalar.
# Every network call goes to a loopback address and has a time limit; every wait is bounded.

# The repository root: this file lives in docs/course/checks/.
COURSE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"

pass() {
  echo "PASS: $*"
  exit 0
}

fail() {
  echo "FAIL: $*"
  exit 1
}

note() {
  echo "  - $*"
}

# need TOOL...: fails with an install hint when a tool is missing.
need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "\`$tool\` is not installed (Debian/Ubuntu: sudo apt-get install $tool; macOS: brew install $tool)"
  done
}

# loopback_url URL: fails unless URL is plain http:// to 127.x.x.x, localhost or [::1].
loopback_url() {
  local url="$1" authority host
  case "$url" in
    http://*) ;;
    *) fail "\`$url\` is not an http:// URL" ;;
  esac
  authority="${url#http://}"
  authority="${authority%%/*}"
  case "$authority" in
    \[::1\]:* | \[::1\]) return 0 ;;
  esac
  host="${authority%%:*}"
  case "$host" in
    localhost | 127.*) return 0 ;;
  esac
  fail "\`$url\` is not a loopback address: the course only talks to services on this machine"
}

# http_get URL OUTFILE: writes the body to OUTFILE and prints the status code (000 when there was
# no answer within 5 seconds).
http_get() {
  curl -s -o "$2" -w '%{http_code}' --connect-timeout 2 --max-time 5 "$1" 2>/dev/null || true
}

# wait_http URL SECONDS: waits until URL answers 2xx, for at most SECONDS (whole seconds).
wait_http() {
  local url="$1" tries=$(($2 * 4)) code
  while [ "$tries" -gt 0 ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time 2 "$url" 2>/dev/null || true)
    case "$code" in 2??) return 0 ;; esac
    tries=$((tries - 1))
    sleep 0.25
  done
  return 1
}

# find_bin NAME: sets FOUND to the path of a workspace binary. $STRANGLER_BIN_DIR wins; then the
# release build, then the debug build of the repository's target directory ($CARGO_TARGET_DIR
# when set). (It sets a variable rather than printing, so that its FAIL reaches the terminal.)
find_bin() {
  local name="$1" dir target="${CARGO_TARGET_DIR:-$COURSE_ROOT/target}"
  for dir in "${STRANGLER_BIN_DIR:-}" "$target/release" "$target/debug"; do
    if [ -n "$dir" ] && [ -x "$dir/$name" ]; then
      # shellcheck disable=SC2034 # read by the scripts that source this file
      FOUND="$dir/$name"
      return 0
    fi
  done
  fail "no \`$name\` binary in $target/release or $target/debug: run \`cargo build --release --workspace\` in $COURSE_ROOT first"
}

# json_flat FILE: one line per scalar of the JSON document, `path<TAB>value`, in document order.
# Paths look like `.contexts[0].name`; values are as written in the JSON (strings keep their
# quotes). Empty objects and arrays print `{}` and `[]`. Exits non-zero on malformed JSON.
json_flat() {
  awk '
    { text = text $0 "\n" }
    END {
      s = text; n = length(s); pos = 1; err = ""
      if (!value("")) { print "json_flat: " err > "/dev/stderr"; exit 1 }
      ws()
      if (pos <= n) { print "json_flat: trailing text at byte " pos > "/dev/stderr"; exit 1 }
    }
    function ws() { while (pos <= n && index(" \t\r\n", substr(s, pos, 1)) > 0) pos++ }
    function value(path,    c, start) {
      ws(); c = substr(s, pos, 1)
      if (c == "{") return object(path)
      if (c == "[") return array(path)
      if (c == "\"") { start = str(); if (err != "") return 0; print path "\t" start; return 1 }
      start = pos
      while (pos <= n && index(",]} \t\r\n", substr(s, pos, 1)) == 0) pos++
      if (pos == start) { err = "unexpected `" c "` at byte " pos; return 0 }
      print path "\t" substr(s, start, pos - start)
      return 1
    }
    function str(    start, c) {
      start = pos; pos++
      while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "\\") pos += 2
        else if (c == "\"") { pos++; return substr(s, start, pos - start) }
        else pos++
      }
      err = "unterminated string"
      return ""
    }
    function object(path,    key, c) {
      pos++; ws()
      if (substr(s, pos, 1) == "}") { pos++; print path "\t{}"; return 1 }
      while (1) {
        ws()
        if (substr(s, pos, 1) != "\"") { err = "expected a key at byte " pos; return 0 }
        key = str(); if (err != "") return 0
        key = substr(key, 2, length(key) - 2)
        ws()
        if (substr(s, pos, 1) != ":") { err = "expected `:` at byte " pos; return 0 }
        pos++
        if (!value(path "." key)) return 0
        ws(); c = substr(s, pos, 1); pos++
        if (c == "}") return 1
        if (c != ",") { err = "expected `,` or `}` at byte " (pos - 1); return 0 }
      }
    }
    function array(path,    i, c) {
      pos++; ws()
      if (substr(s, pos, 1) == "]") { pos++; print path "\t[]"; return 1 }
      i = 0
      while (1) {
        if (!value(path "[" i "]")) return 0
        i++
        ws(); c = substr(s, pos, 1); pos++
        if (c == "]") return 1
        if (c != ",") { err = "expected `,` or `]` at byte " (pos - 1); return 0 }
      }
    }
  ' "$1"
}

# jget FLATFILE PATH: the value at PATH in a json_flat output, strings without their quotes.
jget() {
  awk -F '\t' -v p="$2" '$1 == p { v = $2; if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2); print v; exit }' "$1"
}

# jlist FLATFILE REGEX: the values whose path matches the (awk) REGEX, one per line, unquoted.
jlist() {
  awk -F '\t' -v r="$2" '$1 ~ r { v = $2; if (v ~ /^".*"$/) v = substr(v, 2, length(v) - 2); print v }' "$1"
}
