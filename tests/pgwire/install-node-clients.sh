#!/usr/bin/env bash
# Installs the Node.js PostgreSQL drivers the pgwire tests drive, from the npm registry,
# once, into ${ETL_CACHE_DIR:-~/.cache/spotify-etl}/node-pgwire (offline afterwards):
#   - pg (node-postgres): Cube's, Retool's and most Node services' driver
#   - postgres (postgres.js), which encodes parameters by the types a Describe reports
# Prints that folder, or nothing (and exits 0) when there is no node or npm: the
# tests that use them then skip and say so.
set -euo pipefail
PG_VERSION="${ETL_TEST_NODE_PG_VERSION:-8.23.1}"
POSTGRES_VERSION="${ETL_TEST_POSTGRES_JS_VERSION:-4.2.0}"
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
dir="$CACHE_DIR/node-pgwire"
stamp="$dir/.spotify-etl-stamp"
want="pg@$PG_VERSION postgres@$POSTGRES_VERSION"
log() { printf 'pgwire install-node-clients: %s\n' "$*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  log "no node or npm: the Node.js driver tests will skip"
  exit 0
fi
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.install-node-pgwire.lock"
flock 9
if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules/pg" ] && [ -d "$dir/node_modules/postgres" ]; }; then
  log "installing $want into $dir"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '{"name":"spotify-etl-pgwire-clients","private":true}\n' >"$dir/package.json"
  # shellcheck disable=SC2086
  if ! (cd "$dir" && npm install --no-audit --no-fund --silent $want </dev/null >&2); then
    rm -rf "$dir"
    log "npm could not install $want (offline?): the Node.js driver tests will skip"
    exit 0
  fi
  printf '%s\n' "$want" >"$stamp"
fi
printf '%s\n' "$dir"
