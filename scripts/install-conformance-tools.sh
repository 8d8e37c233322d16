#!/usr/bin/env bash
# The outside tools of the conformance tests (tests/conformance), cached under
# ~/.cache/spotify-etl (or $ETL_CACHE_DIR); idempotent, offline once cached:
#   - Schemathesis and prometheus_client from PyPI in a venv -> $CACHE/venv-conformance
#   - promtool from the Go module proxy (go install)        -> $CACHE/promtool-<version>/promtool
#     with ETL_PROMTOOL=1 and Go installed (building Prometheus takes a long while
#     on a small machine; without it the metrics check uses prometheus_client alone)
# Prints the venv's bin folder on its last line, then promtool's path (or "").
set -euo pipefail
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
SCHEMATHESIS_VERSION=4.32.5
PROMETHEUS_CLIENT_VERSION=0.26.0
PROMETHEUS_VERSION=v0.316.0   # github.com/prometheus/prometheus (promtool) module version
log() { echo "install-conformance-tools: $*" >&2; }

venv="$CACHE_DIR/venv-conformance"
want="schemathesis==$SCHEMATHESIS_VERSION prometheus-client==$PROMETHEUS_CLIENT_VERSION"
stamp="$venv/.spotify-etl-stamp"
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/st" ]; }; then
  command -v python3 >/dev/null && python3 -c 'import venv, ensurepip' 2>/dev/null || {
    apt-get install -y -q python3 python3-venv >&2 || { apt-get update -q >&2 && apt-get install -y -q python3 python3-venv >&2; }
  }
  log "installing $want into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install -q --disable-pip-version-check $want </dev/null >&2 || { rm -rf "$venv"; log "pip failed"; exit 1; }
  echo "$want" > "$stamp"
fi

promtool=""
dir="$CACHE_DIR/promtool-$PROMETHEUS_VERSION"
if [ -x "$dir/promtool" ]; then
  promtool="$dir/promtool"
elif command -v go >/dev/null 2>&1 && [ "${ETL_PROMTOOL:-0}" = "1" ]; then
  log "building promtool $PROMETHEUS_VERSION (first time only)"
  mkdir -p "$dir"
  if ! GOBIN="$dir" GOFLAGS=-mod=mod GOMODCACHE="$CACHE_DIR/go-mod" GOCACHE="$CACHE_DIR/go-build" \
      go install "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION" </dev/null >&2; then
    log "promtool did not build; the metrics check uses prometheus_client alone"
  fi
  [ -x "$dir/promtool" ] && promtool="$dir/promtool"
fi
echo "$venv/bin"
echo "$promtool"
