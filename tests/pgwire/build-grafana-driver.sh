#!/usr/bin/env bash
# Builds tests/pgwire/grafana_driver (pgx v5, the Go driver of Grafana's PostgreSQL
# data source) with the machine's Go toolchain, cached by the hash of its sources
# under ${ETL_CACHE_DIR:-~/.cache/spotify-etl}; offline once the modules are cached.
# Prints the program's path, or nothing (and exits 0) when there is no Go toolchain:
# the test that uses it then skips and says so.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
log() { printf 'pgwire build-grafana-driver: %s\n' "$*" >&2; }

if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain: the pgx (Grafana driver) test will skip"
  exit 0
fi
src="$here/grafana_driver"
hash="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-16)"
out="$CACHE_DIR/grafana-driver-$hash/grafana-driver"
if [ ! -x "$out" ]; then
  mkdir -p "$(dirname "$out")"
  log "building the pgx driver program (first time only)"
  (cd "$src" && env CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" GOMODCACHE="$CACHE_DIR/go-mod" \
      GOCACHE="$CACHE_DIR/go-build" go build -o "$out.tmp" . </dev/null >&2)
  mv "$out.tmp" "$out"
fi
printf '%s\n' "$out"
