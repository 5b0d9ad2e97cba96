#!/usr/bin/env bash
# Checkpoint of lab 6: the Kubernetes objects of the cutover are well formed, offline.
#
#   docs/course/checks/lab-6.sh [SERVICE_DIR] [HTTPROUTE_FILE] [BACKEND]
#
# Defaults: /tmp/reviews-service, ./httproute.yaml (from `strangler plan --export gateway-api`),
# and `reviews` (a backend whose name contains it must get traffic). Checks the service's
# k8s/deployment.yaml and k8s/service.yaml (probes on /healthz and /readyz, ports, labels and
# selectors that match) and every HTTPRoute of the export (API group, parent gateway, backends
# with valid weights, the service's backend weighted above 0). No cluster is needed; with
# KUBECTL_DRY_RUN=1 and a cluster configured, `kubectl apply --dry-run=server` runs as well.
# Prints PASS or FAIL with the reason; exits 0 on PASS, 1 on FAIL.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need awk grep

dir="${1:-/tmp/reviews-service}"
routes="${2:-httproute.yaml}"
backend="${3:-reviews}"
deployment="$dir/k8s/deployment.yaml"
service="$dir/k8s/service.yaml"

echo "lab 6: checking $deployment, $service and $routes"
for f in "$deployment" "$service" "$routes"; do
  [ -f "$f" ] || fail "$f does not exist"
  ! grep -q "$(printf '\t')" "$f" || fail "$f holds a tab: YAML indents with spaces only"
done

# value FILE KEY: the first `KEY: value` in FILE, quotes removed.
value() {
  awk -v k="$2" '{ line = $0; sub(/^[ -]*/, "", line) } index(line, k ": ") == 1 { v = substr(line, length(k) + 3); gsub(/^["'\'']|["'\'']$/, "", v); print v; exit }' "$1"
}
# probe_path FILE PROBE: the httpGet path of readinessProbe or livenessProbe.
probe_path() {
  awk -v p="$2:" '$1 == p { on = 1; next } on && $1 == "path:" { print $2; exit } on && /^ *[a-zA-Z]+Probe:/ { exit }' "$1"
}

grep -q '^kind: Deployment' "$deployment" || fail "$deployment is not a Deployment"
grep -q '^apiVersion: apps/v1' "$deployment" || fail "$deployment is not apps/v1"
[ "$(probe_path "$deployment" readinessProbe)" = /readyz ] ||
  fail "the Deployment's readinessProbe does not ask /readyz (the check that the database holds its tables)"
[ "$(probe_path "$deployment" livenessProbe)" = /healthz ] ||
  fail "the Deployment's livenessProbe does not ask /healthz"
port=$(value "$deployment" containerPort)
addr=$(awk '/_ADDR$/ { getline; sub(/^ *value: */, ""); gsub(/"/, ""); print; exit }' "$deployment")
[ -n "$port" ] && [ "$addr" = "0.0.0.0:$port" ] ||
  fail "the container listens on \`$addr\` but declares containerPort $port (it must bind 0.0.0.0 on that port to be reachable)"
image=$(value "$deployment" image)
[ -n "$image" ] || fail "the Deployment names no image"
app=$(awk '/matchLabels:/ { getline; sub(/^ *app: */, ""); print; exit }' "$deployment")
template_app=$(awk '/^  template:/ { t = 1 } t && /^ *app: / { sub(/^ *app: */, ""); print; exit }' "$deployment")
[ -n "$app" ] && [ "$app" = "$template_app" ] ||
  fail "the Deployment's selector (app: $app) does not match its pod template (app: $template_app)"
note "Deployment: image $image, port $port, probes /healthz and /readyz, selector app=$app"

grep -q '^kind: Service' "$service" || fail "$service is not a Service"
selector=$(awk '/^  selector:/ { getline; sub(/^ *app: */, ""); print; exit }' "$service")
[ "$selector" = "$app" ] || fail "the Service selects app=$selector but the pods are app=$app: it would have no endpoints"
target=$(value "$service" targetPort)
[ "$target" = http ] || [ "$target" = "$port" ] ||
  fail "the Service's targetPort $target is neither the container port's name (http) nor $port"
service_name=$(awk '/^metadata:/ { m = 1 } m && /^  name: / { sub(/^  name: */, ""); print; exit }' "$service")
note "Service: $service_name selects app=$app, targets $target"

# The HTTPRoutes: one summary line per rule, `route<TAB>backend=weight ...`.
awk '
  function flush() { if (refs != "") print route "\t" refs; refs = ""; inrefs = 0 }
  function indent(s) { match(s, /^ */); return RLENGTH }
  /^---/ { flush(); kind = ""; api = ""; route = ""; next }
  /^kind: / { kind = $2 }
  /^apiVersion: / { api = $2 }
  /^  name: / && route == "" { route = $2 }
  /^ *parentRefs:/ { parents++ }
  /^[ -]*backendRefs:/ { flush(); inrefs = 1; base = indent($0); next }
  inrefs && NF > 0 && indent($0) <= base { flush() }
  inrefs && /^ *- name: / { n++; refs = refs (refs == "" ? "" : " ") $3 "="; pending = 1; next }
  inrefs && /^ *name: / && pending { refs = refs $2; next }
  inrefs && /^ *weight: / { refs = refs $2; pending = 0 }
  END { flush(); print "#kinds\t" kinds; print "#parents\t" parents + 0 }
  /^kind: / { kinds = kinds " " $2 } /^apiVersion: / && $2 !~ /^gateway\.networking\.k8s\.io\// && $0 != "" { bad_api = bad_api " " $2 }
  END { print "#badapi\t" bad_api }
' "$routes" >"${TMPDIR:-/tmp}/lab6.$$" || fail "cannot read $routes"
summary="${TMPDIR:-/tmp}/lab6.$$"
trap 'rm -f "$summary"' EXIT
grep -q 'HTTPRoute' <(awk -F '\t' '$1 == "#kinds"' "$summary") || fail "$routes holds no HTTPRoute (kinds:$(awk -F '\t' '$1 == "#kinds" { print $2 }' "$summary"))"
bad=$(awk -F '\t' '$1 == "#badapi" { print $2 }' "$summary")
[ -z "$bad" ] || fail "$routes uses an apiVersion outside gateway.networking.k8s.io:$bad"
[ "$(awk -F '\t' '$1 == "#parents" { print $2 }' "$summary")" -gt 0 ] || fail "no HTTPRoute names its gateway (parentRefs)"
rules=$(grep -vc '^#' "$summary" || true)
[ "$rules" -gt 0 ] || fail "no rule of $routes has backendRefs"
to_backend=0
while IFS=$'\t' read -r route refs; do
  sum=0
  for ref in $refs; do
    name="${ref%%=*}"
    weight="${ref#*=}"
    [ -n "$weight" ] || weight=1 # Gateway API's default
    case "$weight" in *[!0-9]*) fail "HTTPRoute $route: backend $name has weight \`$weight\`, not a whole number" ;; esac
    sum=$((sum + weight))
    case "$name" in *"$backend"*) [ "$weight" -gt 0 ] && to_backend=$((to_backend + 1)) ;; esac
  done
  [ "$sum" -gt 0 ] || fail "HTTPRoute $route: a rule's backend weights add up to 0: it would answer 500 to every request"
  note "HTTPRoute $route: $refs"
done < <(grep -v '^#' "$summary")
[ "$to_backend" -gt 0 ] || fail "no rule sends traffic to a $backend backend: export after the cutover of lab 4 (weight 100)"

if [ "${KUBECTL_DRY_RUN:-0}" = 1 ]; then
  need kubectl
  kubectl apply --dry-run=server -f "$deployment" -f "$service" -f "$routes" >/dev/null ||
    fail "the cluster refused the objects (kubectl apply --dry-run=server)"
  note "kubectl apply --dry-run=server: accepted"
fi
pass "the Deployment, the Service and $rules HTTPRoute rule(s) are well formed; $to_backend rule(s) send traffic to $backend"
