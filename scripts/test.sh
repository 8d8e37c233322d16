#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, starts the real test
# servers on loopback, runs ctest, stops the servers (also on failure).
# ETL_SANITIZE=1 runs it under ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$(bash scripts/build.sh | tail -n 1)

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

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
# The container image tests (label `image`: a project image build takes 15-45
# minutes) run with ETL_TEST_IMAGES=1, or on their own: scripts/test-images.sh.
exclude=()
if [ "${ETL_TEST_IMAGES:-0}" != "1" ] && [ $# -eq 0 ]; then exclude=(-LE image); fi
ctest --test-dir "$build_dir" --output-on-failure -j "${ETL_TEST_JOBS:-2}" --timeout 600 "${exclude[@]}" "$@"
