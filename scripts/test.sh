#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, starts the real test
# servers on loopback, runs ctest, stops the servers (also on failure).
# ETL_SANITIZE=1 runs it under ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$(bash scripts/build.sh | tail -n 1)

# The container image tests (label `image`: deploy_image, deploy_stack) run when
# podman is installed (ETL_TEST_IMAGES=auto, the default; not with
# ETL_SANITIZE=1: deploy_stack runs build/bin's fake-spotify in the image), always with
# ETL_TEST_IMAGES=1 (local-images.sh then installs podman on Debian), never
# with 0. Their images are built here, before any test runs, so the compile
# inside the build container does not compete with timed tests: a few minutes
# after a source change (ccache in the Dockerfile's cache mount), long only the
# very first time (README, "Two commands"). A failed build is left to
# deploy_image to report.
images="${ETL_TEST_IMAGES:-auto}"
if [ "$images" = auto ]; then
  images=0
  if command -v podman >/dev/null 2>&1 && [ "${ETL_SANITIZE:-0}" != 1 ]; then images=1; fi
fi
if [ "$images" = 1 ] && { [ $# -eq 0 ] || [ "${ETL_TEST_IMAGES:-}" = 1 ]; }; then
  start=$(date +%s)
  if bash deploy/scripts/local-images.sh all; then
    echo "test: container images ready in $(( $(date +%s) - start )) s" >&2
  else
    echo "test: building the container images failed (deploy_image reports it)" >&2
  fi
fi

servers_env="$(mktemp)"
cleanup() {
  if [ -f scripts/test-servers.sh ]; then bash scripts/test-servers.sh stop "$servers_env" || true; fi
  rm -f "$servers_env"
}
trap cleanup EXIT
if [ -f scripts/test-servers.sh ] && [ "${ETL_TEST_SERVERS:-1}" = "1" ]; then
  bash scripts/test-servers.sh start "$servers_env"
  set -a; . "$servers_env"; set +a
fi

# Trino for ctest trino_iceberg, fetched here (about 820 MB the first time, cached) rather
# than inside the test's timeout; without a JDK 24+ or the artifact the test skips itself.
if [ $# -eq 0 ]; then bash scripts/install-trino.sh >/dev/null || true; fi

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
exclude=()
if [ $# -eq 0 ] && [ "$images" != 1 ]; then exclude=(-LE '^image$'); fi
ctest --test-dir "$build_dir" --output-on-failure -j "${ETL_TEST_JOBS:-2}" --timeout 600 "${exclude[@]}" "$@"
