#!/usr/bin/env bash
# The cataloger over a lake in MinIO: in place (httpfs) vs the former local copy
# vs a local folder, side by side (bench/lake_benchmark.cpp says what it prints).
# Starts the test servers unless ETL_TEST_S3_* are set; arguments go to the benchmark.
#   bash bench/run_lake_bench.sh --days 365 --songs 40000 --memory-limit 64M --rounds 15
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${ETL_BENCH_BUILD_DIR:-$(bash scripts/build.sh | tail -n 1)}"
cmake --build "$build_dir" --target lake_benchmark -j 2 >/dev/null
if [ -z "${ETL_TEST_S3_ENDPOINT:-}" ]; then
  servers_env="$(mktemp)"
  trap 'bash scripts/test-servers.sh stop "$servers_env" || true; rm -f "$servers_env"' EXIT
  bash scripts/test-servers.sh start "$servers_env"
  set -a; . "$servers_env"; set +a
fi
"$build_dir/bin/lake_benchmark" "$@"
