#!/usr/bin/env bash
# Trino for the Trino test (tests/trino), cached under ~/.cache/spotify-etl
# (or $ETL_CACHE_DIR); idempotent, offline once cached:
#   io.trino:trino-server:476 (tar.gz, Maven Central through `mvn dependency:get`, so
#   it lands in ~/.m2 once), of which only lib/ and plugin/iceberg/ are unpacked into
#   $CACHE/trino-476/trino-server-476 (the other ~50 plugins would only slow the start)
# and a JDK new enough for it (Trino 476 needs Java 24+: its classes are version 68; its
# start-up check only says 22+): $ETL_TRINO_JAVA_HOME (only that
# one when set), else $JAVA_HOME or the newest /usr/lib/jvm/* that is.
# Prints `JAVA_HOME=<jdk>` and `TRINO_HOME=<server folder>` as its last two lines.
# Exit 77 when there is no such JDK or the artifact cannot be had (offline, no mvn):
# the test calling it is then skipped, not failed.
set -euo pipefail
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
TRINO_VERSION=476
JAVA_MIN=24
log() { echo "install-trino: $*" >&2; }

java_major() { # JAVA_HOME -> major version, or nothing
  local line
  [ -x "$1/bin/java" ] || return 0
  line="$("$1/bin/java" -XshowSettings:properties -version 2>&1 | grep -m1 'java.specification.version' || true)"
  line="${line##*= }"
  printf '%s' "${line%%.*}"
}

jdk=""
if [ -n "${ETL_TRINO_JAVA_HOME:-}" ]; then
  candidates=("$ETL_TRINO_JAVA_HOME")   # that one or none
else
  mapfile -t candidates < <(printf '%s\n' "${JAVA_HOME:-}"; ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV)
fi
for candidate in "${candidates[@]}"; do
  candidate="${candidate%/}"
  [ -n "$candidate" ] || continue
  major="$(java_major "$candidate")"
  if [ -n "$major" ] && [ "$major" -ge "$JAVA_MIN" ] 2>/dev/null; then jdk="$candidate"; break; fi
done
if [ -z "$jdk" ]; then
  log "no JDK $JAVA_MIN+ found (set ETL_TRINO_JAVA_HOME; e.g. apt-get install temurin-25-jdk): Trino $TRINO_VERSION cannot run"
  exit 77
fi

dest="$CACHE_DIR/trino-$TRINO_VERSION"
home="$dest/trino-server-$TRINO_VERSION"
stamp="$dest/.spotify-etl-stamp"
want="trino-server-$TRINO_VERSION lib plugin/iceberg"
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.install-trino.lock"
flock 9

if ! { [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$home/lib" ] && [ -d "$home/plugin/iceberg" ]; }; then
  repo="${ETL_MAVEN_REPO:-$HOME/.m2/repository}"   # Maven's local repository
  tarball="$repo/io/trino/trino-server/$TRINO_VERSION/trino-server-$TRINO_VERSION.tar.gz"
  if [ ! -f "$tarball" ]; then
    if ! command -v mvn >/dev/null 2>&1; then log "mvn is missing and $tarball is not there"; exit 77; fi
    log "fetching io.trino:trino-server:$TRINO_VERSION:tar.gz (about 820 MB) from Maven Central"
    if ! mvn -B -q -Dmaven.repo.local="$repo" dependency:get -Dartifact="io.trino:trino-server:$TRINO_VERSION:tar.gz" \
        -Dtransitive=false </dev/null >&2 \
        || [ ! -f "$tarball" ]; then
      log "mvn could not fetch io.trino:trino-server:$TRINO_VERSION:tar.gz (offline?)"; exit 77
    fi
  fi
  log "unpacking lib/ and plugin/iceberg/ of $tarball into $dest"
  rm -rf "$dest"
  mkdir -p "$dest"
  tmp="$(mktemp -d "$dest/.unpack.XXXXXX")"
  # The plugins share jars as hard links (plugin/iceberg's point into plugin/delta-lake and
  # others), so the whole tree is unpacked and everything but lib/ and plugin/iceberg/ removed.
  if ! tar xzf "$tarball" -C "$tmp" 2>"$tmp.err"; then
    tail -n 5 "$tmp.err" >&2; rm -rf "$dest" "$tmp.err"; log "$tarball does not unpack"; exit 77
  fi
  rm -f "$tmp.err"
  unpacked="$tmp/trino-server-$TRINO_VERSION"
  mkdir -p "$home/plugin"
  mv "$unpacked/lib" "$unpacked/NOTICE" "$home/"
  mv "$unpacked/plugin/iceberg" "$home/plugin/"
  rm -rf "$tmp"
  echo "$want" >"$stamp"
fi
echo "JAVA_HOME=$jdk"
echo "TRINO_HOME=$home"
