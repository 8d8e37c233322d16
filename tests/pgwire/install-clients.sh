#!/usr/bin/env bash
# Installs the real PostgreSQL clients the pgwire tests drive, cached and idempotent:
#   - psql from Debian (postgresql-client) when missing
#   - the openssl CLI from Debian (makes the TLS tests' self-signed certificates) when missing
#   - psycopg 3 (with its binary libpq), SQLAlchemy, psycopg2 (Superset's, Airflow's and
#     dbt's driver) and asyncpg from PyPI in a venv
#     -> ${ETL_CACHE_DIR:-~/.cache/spotify-etl}/venv-pgwire
# Once cached it does no network access. Prints the venv's python on stdout.
set -euo pipefail

PSYCOPG_VERSION="${ETL_TEST_PSYCOPG_VERSION:-3.3.9}"
SQLALCHEMY_VERSION="${ETL_TEST_SQLALCHEMY_VERSION:-2.1.9}"
PSYCOPG2_VERSION="${ETL_TEST_PSYCOPG2_VERSION:-2.9.13}"
ASYNCPG_VERSION="${ETL_TEST_ASYNCPG_VERSION:-0.32.0}"
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
venv="$CACHE_DIR/venv-pgwire"
stamp="$venv/.spotify-etl-stamp"
want="psycopg[binary]==$PSYCOPG_VERSION SQLAlchemy==$SQLALCHEMY_VERSION psycopg2-binary==$PSYCOPG2_VERSION asyncpg==$ASYNCPG_VERSION"

log() { printf 'pgwire install-clients: %s\n' "$*" >&2; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.install-pgwire-clients.lock"
flock 9

if ! command -v psql >/dev/null 2>&1; then
  log "installing psql (Debian postgresql-client)"
  apt_install postgresql-client
fi

if ! command -v openssl >/dev/null 2>&1; then
  log "installing the openssl CLI (Debian openssl)"
  apt_install openssl
fi

if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ] \
       && "$venv/bin/python" -c 'import psycopg, sqlalchemy, psycopg2, asyncpg' 2>/dev/null; }; then
  py="$(command -v python3 || true)"
  if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3 python3-venv
    py="$(command -v python3)"
  fi
  log "installing $want into $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  # shellcheck disable=SC2086
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check $want </dev/null >&2; then
    rm -rf "$venv"
    log "ERROR: pip could not install $want"
    exit 1
  fi
  "$venv/bin/python" -c 'import psycopg, sqlalchemy, psycopg2, asyncpg'
  printf '%s\n' "$want" >"$stamp"
fi
printf '%s\n' "$venv/bin/python"
