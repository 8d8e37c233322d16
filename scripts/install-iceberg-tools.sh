#!/usr/bin/env bash
# The independent Iceberg readers of the tests (tests/iceberg), cached under
# ~/.cache/spotify-etl (or $ETL_CACHE_DIR); idempotent, offline once cached:
#   PyIceberg (with PyArrow and its SQLite catalog) and DuckDB's Python package,
#   the same engine version as our libduckdb, from PyPI in a venv -> $CACHE/venv-iceberg
# Prints the venv's python on its last line. Exit 77 when it cannot install
# (offline and not cached): the tests calling it are then skipped.
set -euo pipefail
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
PYICEBERG_VERSION=0.11.1
PYARROW_VERSION=23.0.1
DUCKDB_PY_VERSION=1.4.4   # = DUCKDB_VERSION in scripts/setup.sh
log() { echo "install-iceberg-tools: $*" >&2; }

venv="$CACHE_DIR/venv-iceberg"
want="pyiceberg[pyarrow,sql-sqlite]==$PYICEBERG_VERSION pyarrow==$PYARROW_VERSION duckdb==$DUCKDB_PY_VERSION"
stamp="$venv/.spotify-etl-stamp"
check='import pyiceberg, pyarrow, duckdb, sqlalchemy'

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.install-iceberg-tools.lock"
flock 9

if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c "$check" 2>/dev/null; }; then
  py="$(command -v python3 || true)"
  if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    log "python3 with venv is missing (scripts/setup.sh installs it)"; exit 77
  fi
  log "installing $want into $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  # shellcheck disable=SC2086
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check $want </dev/null >&2; then
    rm -rf "$venv"; log "pip could not install $want (offline?)"; exit 77
  fi
  "$venv/bin/python" -c "$check"
  echo "$want" >"$stamp"
fi
echo "$venv/bin/python"
