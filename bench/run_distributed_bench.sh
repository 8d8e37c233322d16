#!/usr/bin/env bash
# The distributed benchmark with its embedded references, in one run:
#   bash bench/run_distributed_bench.sh [distributed_benchmark options, e.g. --objects 60 --runs 15]
# Builds distributed_benchmark and the three service binaries (into
# $ETL_BENCH_BUILD_DIR, default build-bench-dist/; RelWithDebInfo, -j ${ETL_JOBS:-2},
# niced), starts private test servers (Kafka, MinIO, moto; random ports) with
# scripts/test-servers.sh, runs the benchmark against them and stops them on exit.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${ETL_BENCH_BUILD_DIR:-$root/build-bench-dist}"

if [ ! -f "$build/build.ninja" ]; then
  nice cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" \
    -DETL_BUILD_BENCH=ON -DETL_BUILD_TESTS=OFF >&2
fi
nice cmake --build "$build" -j "${ETL_JOBS:-2}" --target distributed_benchmark extractor transformer cataloger >&2

envfile="$(mktemp "${TMPDIR:-/tmp}/spotify-etl-bench-servers.XXXXXX")"
cleanup() {
  bash "$root/scripts/test-servers.sh" stop "$envfile" >&2 || true
  rm -f "$envfile"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bash "$root/scripts/test-servers.sh" start "$envfile" >&2
set -a
# shellcheck disable=SC1090
. "$envfile"
set +a

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores" >&2
"$build/bin/distributed_benchmark" --bin-dir "$build/bin" "$@"
