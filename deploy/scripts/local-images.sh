#!/usr/bin/env bash
# Builds the container images of the deployment with podman and no registry:
#   - docker.io/library/debian:bookworm and :bookworm-slim, one minimal
#     bookworm root filesystem (debootstrap --variant=minbase from the mirror
#     apt uses), so the unmodified FROM lines of deploy/Dockerfile resolve;
#   - spotify-etl:<version> from the unmodified deploy/Dockerfile;
#   - the Kafka and MinIO images compose.yaml and overlays/local name
#     (localhost/spotify-etl-kafka:<v>, localhost/spotify-etl-minio:<v>), from
#     the artifacts scripts/install-test-servers.sh caches (Kafka's jars from
#     Maven Central, MinIO built from its Go module) on the Debian base.
# Idempotent: the rootfs tarball is cached under ${ETL_CACHE_DIR:-~/.cache/spotify-etl},
# an image is rebuilt only when its inputs changed (podman's layer cache does the rest).
# Installs podman, runc and debootstrap from Debian when missing and writes a
# containers.conf for this kind of VM (runc, cgroupfs, explicit ulimits) unless
# one exists. Progress on stderr; `env` prints the image names on stdout.
# Usage: deploy/scripts/local-images.sh [install|base|project|kafka|minio|all|env]  (default: all)
# Knobs: ETL_IMAGE_VERSION (0.1.0), ETL_DEBIAN_MIRROR (from apt's sources),
#        ETL_IMAGE_EXTRA_CA (auto|0|1: mount the host's extra CA certificates
#        into the build, for a TLS-intercepting proxy), ETL_IMAGE_NICE (10),
#        ETL_JOBS (2: parallel compiles inside the image build).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
VERSION="${ETL_IMAGE_VERSION:-0.1.0}"
KAFKA_VERSION="${ETL_TEST_KAFKA_VERSION:-3.9.2}"
MINIO_VERSION="${ETL_TEST_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
NICE="${ETL_IMAGE_NICE:-10}"
PROJECT_IMAGE="localhost/spotify-etl:$VERSION"
KAFKA_IMAGE="localhost/spotify-etl-kafka:$KAFKA_VERSION"
MINIO_IMAGE="localhost/spotify-etl-minio:${MINIO_VERSION#v0.0.0-}"
BASE_TAGS=(docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim)

log() { printf 'local-images: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# ------------------------------------------------------------ install ----
install_tools() {
  local pkgs=(podman runc catatonit debootstrap netavark aardvark-dns iptables ca-certificates) missing=() p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    command -v apt-get >/dev/null 2>&1 || die "no apt-get: install ${missing[*]} yourself"
    log "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  write_containers_conf
}

# In a VM like this one podman's defaults (crun, systemd cgroups, the
# container's ulimits above the caller's hard limits) do not work. Written only
# when there is no containers.conf of the caller's own.
write_containers_conf() {
  local conf nofile nproc
  if [ "$(id -u)" -eq 0 ]; then conf=/etc/containers/containers.conf
  else conf="${XDG_CONFIG_HOME:-$HOME/.config}/containers/containers.conf"; fi
  if [ -f "$conf" ] && ! grep -q 'written by spotify-etl' "$conf"; then return 0; fi
  nofile="$(ulimit -Hn)"; nproc="$(ulimit -Hu)"
  [ "$nofile" = unlimited ] && nofile=1048576
  [ "$nproc" = unlimited ] && nproc=65536
  [ "$nofile" -gt 65536 ] && nofile=65536
  [ "$nproc" -gt 32768 ] && nproc=32768
  mkdir -p "$(dirname "$conf")"
  cat >"$conf.tmp" <<CONF
# written by spotify-etl deploy/scripts/local-images.sh (delete the line above to keep your own)
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
CONF
  mv "$conf.tmp" "$conf"
  log "wrote $conf (runc, cgroupfs, ulimits nofile=$nofile nproc=$nproc)"
}

# The mirror apt uses here (deb822 URIs: or one-line deb), for debootstrap.
debian_mirror() {
  if [ -n "${ETL_DEBIAN_MIRROR:-}" ]; then echo "$ETL_DEBIAN_MIRROR"; return; fi
  local m
  m="$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
       | awk '/^URIs:/ {print $2}' | grep -E '/debian/?$' | head -n 1 || true)"
  [ -n "$m" ] || m="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
       | awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2}' | grep -E '/debian/?$' | head -n 1 || true)"
  echo "${m:-http://deb.debian.org/debian}"
}

image_label() { # image label -> value, or empty when the image is missing
  podman image inspect --format "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null || true
}

# -------------------------------------------------------------- base ----
# One bookworm minbase rootfs (cached tarball) imported as both debian tags.
build_base() {
  local mirror security tarball want tmp
  mirror="$(debian_mirror)"
  security="${ETL_DEBIAN_SECURITY_MIRROR:-${mirror%/debian*}/debian-security}"
  tarball="$CACHE_DIR/images/debian-bookworm-minbase.tar.gz"
  want="bookworm minbase $mirror $security"
  if [ ! -f "$tarball" ] || [ "$(cat "$tarball.stamp" 2>/dev/null)" != "$want" ]; then
    command -v debootstrap >/dev/null 2>&1 || install_tools
    log "debootstrap --variant=minbase bookworm from $mirror (first time only; a few minutes)"
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/etl-rootfs.XXXXXX")"
    if ! $SUDO nice -n "$NICE" debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$tmp.log" 2>&1; then
      tail -n 30 "$tmp.log" >&2; $SUDO rm -rf "$tmp" "$tmp.log"; die "debootstrap failed"
    fi
    # Like the official images: updates and security updates in the sources,
    # no package lists or caches in the layer.
    $SUDO rm -f "$tmp/root/etc/apt/sources.list"
    $SUDO tee "$tmp/root/etc/apt/sources.list.d/debian.sources" >/dev/null <<SOURCES
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    $SUDO rm -rf "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/"*.bin \
                 "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/log/"*.log
    mkdir -p "$(dirname "$tarball")"
    $SUDO tar -C "$tmp/root" --numeric-owner -czf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    echo "$want" >"$tarball.stamp"
    $SUDO rm -rf "$tmp" "$tmp.log"
  fi
  local sum; sum="$(sha256sum "$tarball" | cut -c1-16)"
  if [ "$(image_label "${BASE_TAGS[0]}" org.spotify-etl.rootfs)" = "$sum" ] \
     && podman image exists "${BASE_TAGS[1]}"; then
    return 0
  fi
  log "importing $tarball as ${BASE_TAGS[*]}"
  podman import --change 'CMD ["bash"]' --change "LABEL org.spotify-etl.rootfs=$sum" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "${BASE_TAGS[0]}" >/dev/null
  podman tag "${BASE_TAGS[0]}" "${BASE_TAGS[1]}"
}

# With a TLS-intercepting proxy the build's HTTPS downloads (npm) need the
# host's extra CA certificates: mounted (read-only, not stored in any layer)
# where update-ca-certificates picks them up when the build installs
# ca-certificates. Note that the image's CA bundle then includes them too.
build_ca_args() {
  local mode="${ETL_IMAGE_EXTRA_CA:-auto}" dir=/usr/local/share/ca-certificates
  if [ "$mode" = 0 ]; then return 0; fi
  if [ "$mode" = auto ] && ! ls "$dir"/*.crt >/dev/null 2>&1; then return 0; fi
  [ -d "$dir" ] || die "ETL_IMAGE_EXTRA_CA=1 but $dir does not exist"
  printf '%s\n' -v "$dir:$dir:ro"
}

# ------------------------------------------------------------ project ----
# The unmodified deploy/Dockerfile. podman's layer cache makes a re-run with
# unchanged sources a few seconds; a changed source file re-runs the compile
# layer, where ccache (the Dockerfile's cache mount, kept by buildah between
# builds) recompiles only the changed files; the package layer of
# scripts/setup.sh stays cached. ETL_JOBS (2): the compile's parallelism.
build_project() {
  local start ca=()
  build_base
  mapfile -t ca < <(build_ca_args)
  ((${#ca[@]})) && log "mounting the host's extra CA certificates into the build (${ca[1]%%:*})"
  start=$(date +%s)
  log "building $PROJECT_IMAGE from deploy/Dockerfile (the first time on a machine: setup.sh + a full Release compile, ~28 min; after a source change: ccache, ~30 s)"
  (cd "$REPO" && nice -n "$NICE" podman build --layers --pull=never "${ca[@]}" \
      -f deploy/Dockerfile --ignorefile deploy/Dockerfile.dockerignore \
      --build-arg VERSION="$VERSION" --build-arg BUILD_JOBS="${ETL_JOBS:-2}" \
      -t "$PROJECT_IMAGE" . >&2)
  log "$PROJECT_IMAGE ready in $(( $(date +%s) - start ))s"
}

# ------------------------------------------------------- kafka, minio ----
# context_from <image dir> <artifact> <name in context>: a temporary build
# context with the Containerfile's folder and the cached artifact (hard links).
context_from() {
  local ctx
  ctx="$(mktemp -d "${TMPDIR:-/tmp}/etl-image-ctx.XXXXXX")"
  cp -a "$1/." "$ctx/"
  cp -al "$2" "$ctx/$3" 2>/dev/null || cp -a "$2" "$ctx/$3"
  echo "$ctx"
}

build_kafka() {
  local libs="$CACHE_DIR/kafka-$KAFKA_VERSION/libs" ctx start
  build_base
  [ -f "$CACHE_DIR/kafka-$KAFKA_VERSION/.complete" ] \
    || ETL_TEST_KAFKA_VERSION="$KAFKA_VERSION" bash "$REPO/scripts/install-test-servers.sh" kafka
  ctx="$(context_from "$REPO/deploy/images/kafka" "$libs" libs)"
  start=$(date +%s)
  log "building $KAFKA_IMAGE"
  if ! nice -n "$NICE" podman build --layers --pull=never --build-arg KAFKA_VERSION="$KAFKA_VERSION" \
        -t "$KAFKA_IMAGE" "$ctx" >&2; then
    rm -rf "$ctx"; die "could not build $KAFKA_IMAGE"
  fi
  rm -rf "$ctx"
  log "$KAFKA_IMAGE ready in $(( $(date +%s) - start ))s"
}

build_minio() {
  local bin="$CACHE_DIR/minio-$MINIO_VERSION/bin/minio" ctx start
  build_base
  [ -x "$bin" ] || ETL_TEST_MINIO_VERSION="$MINIO_VERSION" bash "$REPO/scripts/install-test-servers.sh" minio
  ctx="$(context_from "$REPO/deploy/images/minio" "$bin" minio)"
  start=$(date +%s)
  log "building $MINIO_IMAGE"
  if ! nice -n "$NICE" podman build --layers --pull=never --build-arg MINIO_VERSION="$MINIO_VERSION" \
        -t "$MINIO_IMAGE" "$ctx" >&2; then
    rm -rf "$ctx"; die "could not build $MINIO_IMAGE"
  fi
  rm -rf "$ctx"
  log "$MINIO_IMAGE ready in $(( $(date +%s) - start ))s"
}

# One image build at a time on the machine: every checkout shares the tags,
# so a build and the tests that run its image hold this lock (the tests take
# it themselves and set ETL_IMAGES_LOCKED=1; tests/deploy/podman_support.py).
# The script runs again under flock(1), which holds the lock; -o keeps it out
# of podman's children.
lock_images() { # the script's arguments
  [ "${ETL_IMAGES_LOCKED:-0}" = 1 ] && return 0
  command -v flock >/dev/null 2>&1 || return 0
  local lock="$CACHE_DIR/images/podman.lock"
  mkdir -p "$CACHE_DIR/images"
  flock -n -o "$lock" true || log "waiting for another checkout's image build or test ($lock)"
  export ETL_IMAGES_LOCKED=1
  exec flock -o "$lock" bash "${BASH_SOURCE[0]}" "$@"
}

print_env() {
  printf 'ETL_IMAGE_PROJECT=%s\nETL_IMAGE_KAFKA=%s\nETL_IMAGE_MINIO=%s\n' \
    "$PROJECT_IMAGE" "$KAFKA_IMAGE" "$MINIO_IMAGE"
}

main() {
  local what=("$@") w
  ((${#what[@]})) || what=(all)
  case " ${what[*]} " in *" base "*|*" project "*|*" kafka "*|*" minio "*|*" all "*) lock_images "${what[@]}" ;; esac
  for w in "${what[@]}"; do
    case "$w" in
      install) install_tools ;;
      base) install_tools; build_base ;;
      project) install_tools; build_project ;;
      kafka) install_tools; build_kafka ;;
      minio) install_tools; build_minio ;;
      all) install_tools; build_base; build_kafka; build_minio; build_project ;;
      env) print_env ;;
      *) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
