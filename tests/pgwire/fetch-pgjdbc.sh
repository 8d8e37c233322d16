#!/usr/bin/env bash
# Fetches pgjdbc (org.postgresql:postgresql, the JDBC driver of Metabase, DBeaver,
# Superset's Java cousins and Trino's PostgreSQL connector) from Maven Central into
# Maven's local repository, once; offline afterwards. Prints the jar's path, or
# nothing (and exits 0) when there is no java or no mvn to fetch it: the test that
# uses it then skips and says so.
set -euo pipefail
VERSION="${ETL_TEST_PGJDBC_VERSION:-42.7.14}"
repo="${ETL_MAVEN_REPO:-$HOME/.m2/repository}"
jar="$repo/org/postgresql/postgresql/$VERSION/postgresql-$VERSION.jar"
log() { printf 'pgwire fetch-pgjdbc: %s\n' "$*" >&2; }

if ! command -v java >/dev/null 2>&1; then
  log "no java: the pgjdbc test will skip"
  exit 0
fi
if [ ! -f "$jar" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    log "no mvn to fetch pgjdbc $VERSION: the pgjdbc test will skip"
    exit 0
  fi
  log "fetching org.postgresql:postgresql:$VERSION from Maven Central (first time only)"
  if ! mvn -B -q -Dmaven.repo.local="$repo" dependency:get -Dartifact="org.postgresql:postgresql:$VERSION" \
      -Dtransitive=false </dev/null >&2 || [ ! -f "$jar" ]; then
    log "mvn could not fetch org.postgresql:postgresql:$VERSION (offline?): the pgjdbc test will skip"
    exit 0
  fi
fi
printf '%s\n' "$jar"
