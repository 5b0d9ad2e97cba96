#!/usr/bin/env bash
# Checkpoint of lab 2: the analysis of the sample monolith runs clean, and your answers about
# it (contexts, extraction order, owned and shared tables, the moved function, the shared
# kernel) agree with what the analyzer reports today.
#
#   docs/course/checks/lab-2.sh [ANSWERS]     (default ./lab-2-answers.txt)
#
# The template is docs/course/lab-2-answers.txt. Prints PASS or FAIL with the reason; exits 0
# on PASS, 1 on FAIL. Runs `strangler analyze sample-monolith --format json` (the binary from
# $STRANGLER_BIN_DIR, target/release or target/debug).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need awk sort

answers="${1:-lab-2-answers.txt}"
find_bin strangler
strangler="$FOUND"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "lab 2: analyzing $COURSE_ROOT/sample-monolith"
(cd "$COURSE_ROOT" && "$strangler" analyze sample-monolith --format json --out "$work/analysis.json") 2>"$work/err" ||
  fail "\`strangler analyze sample-monolith --format json\` failed: $(cat "$work/err")"
json_flat "$work/analysis.json" >"$work/a" || fail "the analysis is not valid JSON"
[ "$(jget "$work/a" .schema_version)" = 1 ] || fail "the analysis is not schema_version 1"
[ "$(jget "$work/a" .diagnostics)" = "[]" ] ||
  fail "the analysis has diagnostics (files or SQL it could not read): $(jlist "$work/a" '^\.diagnostics' | head -3 | tr '\n' ' ')"
n_contexts=$(jlist "$work/a" '^\.contexts\[[0-9]+\]\.name$' | wc -l | tr -d ' ')
[ "$n_contexts" -ge 2 ] || fail "the analysis proposes $n_contexts contexts; expected several"
note "analysis: schema 1, no diagnostics, $n_contexts contexts"

[ -f "$answers" ] ||
  fail "no answers file \`$answers\`: copy docs/course/lab-2-answers.txt to the repository root and fill it in"

# The expected answers, computed from today's analysis: one `key<TAB>accepted1|accepted2...`
# line per question (lists are sorted and comma-joined).
idx_of() { # idx_of ARRAY NAME: the index of the element of .ARRAY whose .name is NAME
  awk -F '\t' -v a="$1" -v want="\"$2\"" '
    { p = "^\\." a "\\[[0-9]+\\]\\.name$" }
    $1 ~ p && $2 == want { sub("^\\." a "\\[", "", $1); sub("\\].*", "", $1); print $1; exit }' "$work/a"
}
sorted_list() { sort | awk 'NF' | paste -sd, -; }
reviews_idx=$(idx_of contexts reviews)
movies_idx=$(idx_of tables movies)
{
  printf 'contexts\t%s\n' "$n_contexts"
  printf 'first\t%s\n' "$(awk -F '\t' '$1 ~ /^\.contexts\[[0-9]+\]\.name$/ { name = $2 } $1 ~ /^\.contexts\[[0-9]+\]\.extraction_order$/ && $2 == 1 { gsub(/"/, "", name); print name; exit }' "$work/a")"
  printf 'hardest\t%s\n' "$(awk -F '\t' '$1 ~ /^\.contexts\[[0-9]+\]\.name$/ { name = $2 } $1 ~ /^\.contexts\[[0-9]+\]\.difficulty_label$/ && $2 == "\"hard\"" { gsub(/"/, "", name); print name }' "$work/a" | paste -sd'|' -)"
  printf 'reviews_tables\t%s\n' "$( [ -n "$reviews_idx" ] && jlist "$work/a" "^\\.contexts\\[$reviews_idx\\]\\.tables\\[[0-9]+\\]$" | sorted_list)"
  printf 'movies_writers\t%s\n' "$( [ -n "$movies_idx" ] && jlist "$work/a" "^\\.tables\\[$movies_idx\\]\\.writers\\[[0-9]+\\]$" | sorted_list)"
  printf 'shared_tables\t%s\n' "$(awk -F '\t' '$1 ~ /^\.tables\[[0-9]+\]\.shared$/ && $2 == "true" { n++ } END { print n + 0 }' "$work/a")"
  printf 'moved\t%s\n' "$(jlist "$work/a" '^\.moves\[[0-9]+\]\.function$' | awk '{ full = $0; sub(/.*::/, ""); print full "|" $0 }' | paste -sd'|' -)"
  printf 'kernel_all\t%s\n' "$(awk -F '\t' -v n="$n_contexts" '
      $1 ~ /^\.shared_kernel\[[0-9]+\]\.path$/ { path = $2; gsub(/"/, "", path); used = 0 }
      $1 ~ /^\.shared_kernel\[[0-9]+\]\.used_by\[[0-9]+\]$/ { used++; if (used == n) print path }' "$work/a" | paste -sd'|' -)"
} >"$work/expected"

# Where in the report each answer is found, for the hints.
hint() {
  case "$1" in
    contexts | first | hardest) echo "the summary line and the \"Extraction order\" table" ;;
    reviews_tables) echo "the reviews card under \"Contexts\"" ;;
    movies_writers | shared_tables) echo "the \"Shared data\" table" ;;
    moved) echo "the \"Proposed moves\" table" ;;
    kernel_all) echo "the \"Shared kernel\" table, column \"used by\"" ;;
  esac
}

normalize() { # lower case, no spaces or backticks, list items sorted
  tr '[:upper:]' '[:lower:]' | tr -d ' `\r' | tr ',' '\n' | sort | awk 'NF' | paste -sd, -
}

wrong=0
while IFS=$'\t' read -r key accepted; do
  given=$(awk -F '=' -v k="$key" '$0 !~ /^[ \t]*#/ && $1 ~ "^[ \t]*" k "[ \t]*$" { sub(/^[^=]*=/, ""); sub(/#.*/, ""); print; exit }' "$answers" | normalize)
  if [ -z "$given" ]; then
    note "$key: no answer (see $(hint "$key"))"
    wrong=$((wrong + 1))
    continue
  fi
  ok=no
  IFS='|' read -r -a options <<<"$accepted"
  for option in ${options[@]+"${options[@]}"}; do
    [ "$given" = "$(printf '%s' "$option" | normalize)" ] && ok=yes
  done
  if [ "$ok" = yes ]; then
    note "$key: right"
  else
    note "$key: \`$given\` is not what the analysis says (see $(hint "$key"))"
    wrong=$((wrong + 1))
  fi
done <"$work/expected"

[ "$wrong" -eq 0 ] || fail "$wrong of $(wc -l <"$work/expected" | tr -d ' ') answers are missing or wrong"
pass "the analysis runs clean and all $(wc -l <"$work/expected" | tr -d ' ') answers agree with it"
