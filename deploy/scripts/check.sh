#!/usr/bin/env bash
# The deployment checks, as run by ctest (label `deploy`); each installs the
# tools it needs first (install-tools.sh, cached).
#   check.sh verify                 kustomize renders every overlay; strict decode into
#                                   the Kubernetes API types; cross-object invariants (Go)
#   check.sh compose                `docker compose config` validates deploy/compose.yaml,
#                                   which must mirror overlays/local
#   check.sh replay [bin-dir]       the local overlay's Deployments run as processes against
#                                   the test servers (tests/deploy/manifest_replay_test.py)
#   check.sh image-libs [bin-dir]   the image's runtime packages cover the binaries' libraries
# Exit 77 = skipped (ctest SKIP_RETURN_CODE), with the reason on stderr.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo"
what="${1:-}"
[ "$#" -ge 1 ] && shift

tools_path() { # tools... -> prepend the tools folder to PATH
  local dir
  dir="$(bash "$here/install-tools.sh" "$@" | tail -n 1)"
  export PATH="$dir:$PATH"
}

case "$what" in
  verify)
    command -v go >/dev/null 2>&1 || { echo "check: SKIP: go is not installed" >&2; exit 77; }
    tools_path kustomize
    cd deploy/k8s/verify
    GOFLAGS=-mod=mod exec go test -count=1 ./...
    ;;
  compose)
    tools_path compose
    files=(-f deploy/compose.yaml)
    if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
      compose=(docker compose)
    else
      compose=(docker-compose)   # the v2 plugin binary works standalone too
    fi
    "${compose[@]}" version >&2
    # Quiet validation, with and without the on-demand trigger service.
    "${compose[@]}" "${files[@]}" config --quiet
    "${compose[@]}" "${files[@]}" --profile trigger config --quiet
    services="$("${compose[@]}" "${files[@]}" --profile trigger config --services | sort | tr '\n' ' ')"
    want="cataloger extractor kafka minio minio-setup transformer trigger "
    if [ "$services" != "$want" ]; then
      echo "check: compose services are '$services', want '$want'" >&2
      exit 1
    fi
    echo "check: deploy/compose.yaml is valid (${compose[*]}): $services" >&2
    # ... and mirrors overlays/local (images, Kafka/MinIO settings, setup script,
    # each service's environment). Needs the overlay as JSON: Go + kustomize.
    if command -v go >/dev/null 2>&1; then
      tools_path kustomize
      tmp="$(mktemp -d)"
      trap 'rm -rf "$tmp"' EXIT
      env -i PATH="$PATH" HOME="$HOME" "${compose[@]}" "${files[@]}" --profile trigger config --format json >"$tmp/compose.json"
      (cd deploy/k8s/verify && GOFLAGS=-mod=mod go run ./cmd/render-json ../overlays/local) >"$tmp/overlay.json"
      python3 "$here/compose_mirrors_overlay.py" "$tmp/compose.json" "$tmp/overlay.json"
      echo "check: deploy/compose.yaml mirrors deploy/k8s/overlays/local" >&2
      echo "2 passed, 0 failed"
    else
      echo "check: go missing: compose/overlay mirror check not run" >&2
      echo "1 passed, 0 failed, 1 skipped"
    fi
    ;;
  replay)
    command -v go >/dev/null 2>&1 || { echo "check: SKIP: go is not installed" >&2; exit 77; }
    tools_path kustomize
    bin_dir="${1:-$repo/build/bin}"
    exec python3 tests/deploy/manifest_replay_test.py --bin-dir "$bin_dir"
    ;;
  image-libs)
    exec bash "$here/check-image-libs.sh" "${1:-$repo/build/bin}"
    ;;
  *)
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
