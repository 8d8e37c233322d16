#!/usr/bin/env bash
# Outside tools against one real service binary on loopback:
#   schemathesis  st run <its /openapi.json> --checks all  (zero findings)
#   metrics       its /metrics through prometheus_client's parser, our
#                 conventions (check_metrics.py) and promtool check metrics
# Usage: conformance.sh <bin dir> <extractor|transformer|cataloger> <auth|open> <schemathesis|metrics> [max examples]
# Tools come from scripts/install-conformance-tools.sh (cached; exit 77 = skipped
# when they cannot be installed).
# Schemathesis's seed: ETL_CONFORMANCE_SEED when set; else fixed for the default
# short form (every suite run checks the same cases), random for a longer run.
# The seed used is printed, so a finding can be replayed with ETL_CONFORMANCE_SEED.
set -euo pipefail
bin="$1" service="$2" auth="$3" what="$4" examples="${5:-${ETL_CONFORMANCE_EXAMPLES:-10}}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="$(bash "$root/scripts/install-conformance-tools.sh" 2>/tmp/conformance-install.$$.log)" || {
  cat /tmp/conformance-install.$$.log >&2; rm -f /tmp/conformance-install.$$.log
  echo "conformance: SKIP: the tools could not be installed" >&2; exit 77; }
rm -f /tmp/conformance-install.$$.log
venv_bin="$(sed -n 1p <<<"$tools")" promtool="$(sed -n 2p <<<"$tools")"

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

port="$("$venv_bin/python" "$here/../support/ports.py")"  # reserved until the service binds it
token=""
[ "$auth" = "auth" ] && token="conformance-$RANDOM$RANDOM"
upper="$(tr '[:lower:]' '[:upper:]' <<<"$service")"
env -i PATH="$PATH" HOME="$HOME" \
  "ETL_${upper}_ADDR=127.0.0.1:$port" ETL_API_TOKEN="$token" ETL_BUS=memory \
  ETL_RAW_URL="file://$work/raw" ETL_TRANSFORMED_URL="file://$work/transformed" \
  SPOTIFY_CLIENT_ID=conformance SPOTIFY_CLIENT_SECRET=conformance ETL_SOURCES=playlist:37i9dQZF1DXcBWIGoYBM5M \
  SPOTIFY_API_URL="http://127.0.0.1:9/v1" SPOTIFY_ACCOUNTS_URL="http://127.0.0.1:9" ETL_SPOTIFY_MAX_RETRIES=0 \
  ETL_LOG_LEVEL=warn "$bin/$service" >"$work/service.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  "$venv_bin/python" -c "import urllib.request,sys; urllib.request.urlopen('$base/healthz', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

case "$what" in
  schemathesis)
    args=(--config-file "$here/schemathesis-$service.toml" run "$base/openapi.json" --checks all
          --max-examples "$examples" --workers 1 --generation-database none
          --suppress-health-check all --request-timeout 30)
    if [ -n "${ETL_CONFORMANCE_SEED:-}" ]; then seed="$ETL_CONFORMANCE_SEED"
    elif [ "$examples" = 10 ]; then seed=20261204
    else seed=$(( (RANDOM << 15) | RANDOM )); fi
    args+=(--seed "$seed")
    echo "conformance $service ($auth): schemathesis seed $seed (ETL_CONFORMANCE_SEED=$seed replays it)"
    [ -n "$token" ] && args+=(--header "Authorization: Bearer $token")
    status=0
    (cd "$work" && "$venv_bin/st" "${args[@]}") || status=$?
    if [ "$status" != 0 ]; then echo "--- $service log (tail)" >&2; tail -n 30 "$work/service.log" >&2; fi
    exit "$status"
    ;;
  metrics)
    # Some traffic first, so every family has samples.
    "$venv_bin/python" - "$base" "$token" <<'PY'
import sys, urllib.request
base, token = sys.argv[1], sys.argv[2]
for path in ["/healthz", "/readyz", "/openapi.json", "/v1/nothing", "/healthz"]:
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token} if token else {})
    try: urllib.request.urlopen(req, timeout=5)
    except Exception: pass
PY
    "$venv_bin/python" "$here/check_metrics.py" "$base/metrics" "$work/metrics.txt"
    if [ -n "$promtool" ]; then
      "$promtool" check metrics <"$work/metrics.txt"
      echo "promtool check metrics: ok"
    else
      echo "promtool not available (no Go): prometheus_client's parser only"
    fi
    ;;
  *) echo "unknown check '$what'" >&2; exit 2 ;;
esac
