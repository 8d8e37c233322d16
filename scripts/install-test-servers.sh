#!/usr/bin/env bash
# Installs the servers the integration tests run against, all cached under
# ${ETL_CACHE_DIR:-~/.cache/spotify-etl}; idempotent, and once cached it does no
# network access and returns in well under a second:
#   - Apache Kafka (KRaft) jars from Maven Central  -> $CACHE/kafka-<v>/libs
#   - MinIO built from its Go module (go install)    -> $CACHE/minio-<v>/bin/minio
#   - moto[server] + boto3 from PyPI in a venv       -> $CACHE/venv-moto
#   - kcat from Debian (optional convenience for tests and manual checks)
# Prints nothing on stdout; progress goes to stderr.
# Usage: scripts/install-test-servers.sh [kafka|minio|moto|kcat ...]   (default: all)
set -euo pipefail

KAFKA_VERSION="${ETL_TEST_KAFKA_VERSION:-3.9.2}"
# MinIO tags are RELEASE.*, which are not semver, so the Go module proxy only
# serves pseudo-versions: this one is the head of github.com/minio/minio on
# 2026-02-12 (commit 7aac2a2c5b7c); it builds with Go >= 1.24 and CGO_ENABLED=0.
MINIO_VERSION="${ETL_TEST_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
MOTO_VERSION="${ETL_TEST_MOTO_VERSION:-5.2.5}"
BOTO3_VERSION="${ETL_TEST_BOTO3_VERSION:-1.44.5}"

CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATES="$HERE/test-servers"

log() { printf 'install-test-servers: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq >&2; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
sha() { sha256sum "$@" | sha256sum | cut -c1-16; }

kafka_libs_dir() { printf '%s/kafka-%s/libs' "$CACHE_DIR" "$KAFKA_VERSION"; }
minio_bin() { printf '%s/minio-%s/bin/minio' "$CACHE_DIR" "$MINIO_VERSION"; }
moto_venv() { printf '%s/venv-moto' "$CACHE_DIR"; }

install_kafka() {
  local dir stamp want tmp
  dir="$CACHE_DIR/kafka-$KAFKA_VERSION"
  stamp="$dir/.complete"
  want="kafka=$KAFKA_VERSION pom=$(sha "$TEMPLATES/kafka-pom.xml")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
    return 0
  fi
  command -v java >/dev/null 2>&1 || apt_install openjdk-17-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  log "resolving Apache Kafka $KAFKA_VERSION (kafka_2.13 + kafka-tools + reload4j) from Maven Central"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/etl-kafka-install.XXXXXX")"
  cp "$TEMPLATES/kafka-pom.xml" "$tmp/pom.xml"
  if ! (cd "$tmp" && mvn -B -q -Dkafka.version="$KAFKA_VERSION" \
          dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/libs" </dev/null >"$tmp/mvn.log" 2>&1); then
    tail -n 40 "$tmp/mvn.log" >&2
    rm -rf "$tmp"
    die "maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
  fi
  [ -f "$tmp/libs/kafka_2.13-$KAFKA_VERSION.jar" ] || die "kafka_2.13-$KAFKA_VERSION.jar missing after resolution"
  rm -rf "$dir"
  mkdir -p "$dir"
  mv "$tmp/libs" "$dir/libs"
  rm -rf "$tmp"
  printf '%s\n' "$want" >"$stamp"
  log "Kafka $KAFKA_VERSION jars in $dir/libs"
}

install_minio() {
  local bin dir tmp start
  bin="$(minio_bin)"
  [ -x "$bin" ] && return 0
  command -v go >/dev/null 2>&1 || die "Go >= 1.24 is needed to build MinIO (go install github.com/minio/minio@$MINIO_VERSION)"
  dir="$(dirname "$bin")"
  log "building MinIO $MINIO_VERSION with $(go version | cut -d' ' -f3) (first time only; takes a few minutes)"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/etl-minio-install.XXXXXX")"
  start=$(date +%s)
  # Outside any module, so the project's own files (if any) play no part.
  if ! (cd "$tmp" && env CGO_ENABLED=0 GOBIN="$tmp/bin" GOFLAGS=-buildvcs=false \
          go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION" </dev/null >"$tmp/go.log" 2>&1); then
    tail -n 40 "$tmp/go.log" >&2
    rm -rf "$tmp"
    die "could not build MinIO $MINIO_VERSION"
  fi
  mkdir -p "$dir"
  mv "$tmp/bin/minio" "$bin.tmp" && mv "$bin.tmp" "$bin"
  rm -rf "$tmp"
  log "MinIO built in $(( $(date +%s) - start ))s: $bin"
}

install_moto() {
  local venv stamp want py
  venv="$(moto_venv)"
  stamp="$venv/.spotify-etl-stamp"
  want="moto[server]==$MOTO_VERSION boto3==$BOTO3_VERSION"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ] \
      && [ -x "$venv/bin/moto_server" ] && "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    return 0
  fi
  py="$(command -v python3 || true)"
  if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    apt_install python3 python3-venv
    py="$(command -v python3)"
  fi
  log "installing $want into $venv"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check "moto[server]==$MOTO_VERSION" "boto3==$BOTO3_VERSION" </dev/null >&2; then
    rm -rf "$venv"
    die "pip could not install $want"
  fi
  "$venv/bin/python" -c 'import moto, boto3' || die "moto/boto3 not importable from $venv"
  printf '%s\n' "$want" >"$stamp"
}

install_kcat() {
  command -v kcat >/dev/null 2>&1 && return 0
  log "installing kcat (Debian) for tests and manual checks"
  apt_install kcat || log "warning: kcat could not be installed; tests that need it will skip"
}

main() {
  local what=("$@")
  ((${#what[@]})) || what=(kafka minio moto kcat)
  mkdir -p "$CACHE_DIR"
  # Two test runs installing at once must not step on each other.
  exec 9>"$CACHE_DIR/.install-test-servers.lock"
  flock 9
  local w
  for w in "${what[@]}"; do
    case "$w" in
      kafka) install_kafka ;;
      minio) install_minio ;;
      moto) install_moto ;;
      kcat) install_kcat ;;
      *) die "unknown component '$w' (kafka, minio, moto, kcat)" ;;
    esac
  done
}

# Sourced by test-servers.sh for the paths; run directly to install.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
