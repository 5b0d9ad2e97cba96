#!/usr/bin/env bash
# Checkpoint of lab 6: the Kubernetes objects of the cutover are well formed, offline.
#
#   docs/course/checks/lab-6.sh [SERVICE_DIR] [HTTPROUTE_FILE]
#
# Defaults: /tmp/reviews-service and ./httproute.yaml (from `strangler plan --export
# gateway-api`). Checks the service's k8s/deployment.yaml and k8s/service.yaml (probes on
# /healthz and /readyz, ports, labels and selectors that match) and every HTTPRoute of the
# export (API group, parent gateway, backends with valid weights, the Service of the manifests
# among the backends, on its port, weighted above 0). No cluster is needed; with
# KUBECTL_DRY_RUN=1 and a cluster configured, `kubectl apply --dry-run=server` runs as well.
# Prints PASS or FAIL with the reason; exits 0 on PASS, 1 on FAIL.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
need awk grep

dir="${1:-/tmp/reviews-service}"
routes="${2:-httproute.yaml}"
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
service_port=$(value "$service" port)
note "Service: $service_name (port $service_port) selects app=$app, targets $target"

# The HTTPRoutes: one summary line per rule's backendRefs, `route<TAB>name=weight:port ...`,
# plus `#` lines with what the documents declare. Handles both YAML list styles (items indented
# under their key, or at the key's own indent).
summary="$(mktemp)"
trap 'rm -f "$summary"' EXIT
awk '
  function endref() {
    if (rname != "") refs = refs (refs == "" ? "" : " ") rname "=" rweight ":" rport
    rname = ""; rweight = ""; rport = ""
  }
  function flush() { endref(); if (refs != "") print route "\t" refs; refs = ""; inrefs = 0 }
  function indent(s) { match(s, /^ */); return RLENGTH }
  /^[ \t]*#/ { next }
  /^---/ { flush(); route = ""; next }
  /^kind: / { kinds = kinds " " $2 }
  /^apiVersion: / { if ($2 !~ /^gateway\.networking\.k8s\.io\//) bad = bad " " $2 }
  /^  name: / && route == "" { route = $2 }
  /^[ -]*parentRefs:/ { parents++ }
  inrefs && NF > 0 && (indent($0) < base || (indent($0) == base && $0 !~ /^ *- /)) { flush() }
  /^[ -]*backendRefs:/ { flush(); inrefs = 1; base = indent($0); next }
  inrefs && /^ *- name: / { endref(); rname = $3; next }
  inrefs && /^ *weight: / { rweight = $2 }
  inrefs && /^ *port: / { rport = $2 }
  END { flush(); print "#kinds\t" kinds; print "#parents\t" parents + 0; print "#badapi\t" bad }
' "$routes" >"$summary" || fail "cannot read $routes"
meta() { awk -F '\t' -v k="#$1" '$1 == k { print $2 }' "$summary"; }
case "$(meta kinds)" in *HTTPRoute*) ;; *) fail "$routes holds no HTTPRoute (kinds:$(meta kinds))" ;; esac
[ -z "$(meta badapi)" ] || fail "$routes uses an apiVersion outside gateway.networking.k8s.io:$(meta badapi)"
[ "$(meta parents)" -gt 0 ] || fail "no HTTPRoute names its gateway (parentRefs)"
rules=$(grep -vc '^#' "$summary" || true)
[ "$rules" -gt 0 ] || fail "no rule of $routes has backendRefs"
to_service=0
while IFS=$'\t' read -r route refs; do
  sum=0
  for ref in $refs; do
    name="${ref%%=*}"
    rest="${ref#*=}"
    weight="${rest%%:*}"
    port="${rest#*:}"
    [ -n "$weight" ] || weight=1 # Gateway API's default
    case "$weight" in *[!0-9]*) fail "HTTPRoute $route: backend $name has weight \`$weight\`, not a whole number" ;; esac
    sum=$((sum + weight))
    if [ "$name" = "$service_name" ]; then
      [ "$port" = "$service_port" ] ||
        fail "HTTPRoute $route: backend $name on port ${port:-?}, but the Service $service_name listens on $service_port (export with --service-port $service_port)"
      [ "$weight" -gt 0 ] && to_service=$((to_service + 1))
    fi
  done
  [ "$sum" -gt 0 ] || fail "HTTPRoute $route: a rule's backend weights add up to 0: it would answer 500 to every request"
done < <(grep -v '^#' "$summary")
for route in $(grep -v '^#' "$summary" | cut -f1 | uniq); do
  note "HTTPRoute $route: $(awk -F '\t' -v r="$route" '$1 == r { print $2 }' "$summary" | sort -u | paste -sd'|' - | sed 's/|/; /g')"
done
[ "$to_service" -gt 0 ] ||
  fail "no rule sends traffic to the Service $service_name: the backends are $(grep -v '^#' "$summary" | cut -f2 | tr ' ' '\n' | sed 's/=.*//' | sort -u | paste -sd, -) (name the candidate upstream after the Service, and export after the cutover)"

if [ "${KUBECTL_DRY_RUN:-0}" = 1 ]; then
  need kubectl
  kubectl apply --dry-run=server -f "$deployment" -f "$service" -f "$routes" >/dev/null ||
    fail "the cluster refused the objects (kubectl apply --dry-run=server)"
  note "kubectl apply --dry-run=server: accepted"
fi
pass "the Deployment, the Service and $rules HTTPRoute rule(s) are well formed; $to_service rule(s) send traffic to $service_name"
