#!/usr/bin/env bash
# Installs the tools the deployment checks need, cached under
# ${ETL_CACHE_DIR:-~/.cache/spotify-etl}; idempotent, no network once cached.
#   - Docker Compose v2 (the `docker compose` CLI plugin), built from its Go
#     module: $CACHE/docker-compose-<v>/docker-compose, linked as
#     ~/.docker/cli-plugins/docker-compose (Debian does not package v2);
#   - kustomize v5 from its Go module, only when kubectl (which has kustomize
#     built in) is missing: $CACHE/kustomize-<v>/kustomize.
# Prints the folder to put first on PATH (it holds `docker-compose` and, when
# built, `kustomize`) on stdout; progress on stderr.
# Usage: deploy/scripts/install-tools.sh [compose] [kustomize]   (default: both)
# Knobs: ETL_COMPOSE_VERSION, ETL_KUSTOMIZE_VERSION, ETL_TOOLS_NICE (default 15).
set -euo pipefail

COMPOSE_VERSION="${ETL_COMPOSE_VERSION:-v2.40.3}"
KUSTOMIZE_VERSION="${ETL_KUSTOMIZE_VERSION:-v5.7.1}"
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
NICE="${ETL_TOOLS_NICE:-15}"
TOOLS_BIN="$CACHE_DIR/deploy-tools/bin"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

need_go() {
  command -v go >/dev/null 2>&1 || die "Go is needed to build $1 (go install); install Go >= 1.24"
}

# go_build <module> <version> <package in the module> <output file> [ldflags]:
# a pinned build of the module's own sources as the main module (go install
# pkg@version refuses modules whose go.mod has replace or exclude directives,
# as Compose's has), with the dependency versions of its go.sum.
go_build() {
  local module="$1" version="$2" pkg="$3" out="$4" ldflags="${5:-}" tmp start dir
  need_go "$module"
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/etl-tools.XXXXXX")"
  start=$(date +%s)
  log "building $module@$version ($pkg) with $(go version | cut -d' ' -f3) (first time only; a few minutes)"
  dir="$(cd "$tmp" && GOFLAGS= go mod download -json "$module@$version" </dev/null 2>"$tmp/go.log" \
         | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [ -z "$dir" ] || [ ! -f "$dir/go.mod" ]; then
    cat "$tmp/go.log" >&2
    rm -rf "$tmp"
    die "could not download $module@$version"
  fi
  cp -R "$dir" "$tmp/src"
  chmod -R u+w "$tmp/src"
  if ! (cd "$tmp/src" && env CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly" \
          nice -n "$NICE" go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/out" "$pkg" </dev/null >>"$tmp/go.log" 2>&1); then
    tail -n 40 "$tmp/go.log" >&2
    rm -rf "$tmp"
    die "could not build $module@$version"
  fi
  mkdir -p "$(dirname "$out")"
  mv "$tmp/out" "$out.tmp" && mv "$out.tmp" "$out"
  rm -rf "$tmp"
  log "built $(basename "$out") in $(( $(date +%s) - start ))s: $out"
}

install_compose() {
  local bin="$CACHE_DIR/docker-compose-$COMPOSE_VERSION/docker-compose"
  if [ ! -x "$bin" ]; then
    go_build github.com/docker/compose/v2 "$COMPOSE_VERSION" ./cmd "$bin" \
      "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION"
  fi
  mkdir -p "$TOOLS_BIN" "$HOME/.docker/cli-plugins"
  ln -sfn "$bin" "$TOOLS_BIN/docker-compose"
  # As a docker CLI plugin too, unless a real file (somebody else's install) is there.
  local plugin="$HOME/.docker/cli-plugins/docker-compose"
  if [ ! -e "$plugin" ] || [ -L "$plugin" ]; then
    ln -sfn "$bin" "$plugin"
  fi
}

install_kustomize() {
  if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
    return 0
  fi
  if command -v kustomize >/dev/null 2>&1; then
    return 0
  fi
  local bin="$CACHE_DIR/kustomize-$KUSTOMIZE_VERSION/kustomize"
  [ -x "$bin" ] || go_build sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION" . "$bin"
  mkdir -p "$TOOLS_BIN"
  ln -sfn "$bin" "$TOOLS_BIN/kustomize"
}

main() {
  local what=("$@")
  ((${#what[@]})) || what=(compose kustomize)
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.install-deploy-tools.lock"
  flock 9
  local w
  for w in "${what[@]}"; do
    case "$w" in
      compose) install_compose ;;
      kustomize) install_kustomize ;;
      *) die "unknown tool '$w' (compose, kustomize)" ;;
    esac
  done
  mkdir -p "$TOOLS_BIN"
  printf '%s\n' "$TOOLS_BIN"
}

# Sourced (for its functions) or run.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
