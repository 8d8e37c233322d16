#!/usr/bin/env bash
# The distributed benchmark with its embedded references, in one run:
#   bash bench/run_distributed_bench.sh [distributed_benchmark options, e.g. --objects 60 --runs 15]
# Builds distributed_benchmark and the three service binaries (into
# $ETL_BENCH_BUILD_DIR, default build-bench-dist/; RelWithDebInfo, -j ${ETL_JOBS:-2},
# niced), starts private test servers (Kafka, MinIO, moto; random ports) with
# scripts/test-servers.sh, runs the benchmark against them and stops them on exit.
# ETL_BENCH_S3_RTT_MS=N puts MinIO N ms of round trip away (bench/delay_proxy.py,
# loopback only): every S3 request of the benchmark and the services goes through it
# (and, with ETL_BENCH_S3_LOG=file, is logged there: time, connection, request line).
# ETL_BENCH_SERVER_CPUS=0 ETL_BENCH_PIPELINE_CPUS=1 (taskset lists) pins the test servers
# to the first list and the benchmark, with every service process it starts, to the
# second: Kafka and MinIO then never run on the pipeline's cores (run AD).
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
proxy_pid=""
cleanup() {
  if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
  bash "$root/scripts/test-servers.sh" stop "$envfile" >&2 || true
  rm -f "$envfile" "$envfile.proxy-port"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pin() { # cpu-list command...: the command (and what it starts) on those CPUs only
  local cpus="$1"
  shift
  if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi
}
pin "${ETL_BENCH_SERVER_CPUS:-}" bash "$root/scripts/test-servers.sh" start "$envfile" >&2
set -a
# shellcheck disable=SC1090
. "$envfile"
set +a

if [ "${ETL_BENCH_S3_RTT_MS:-0}" != 0 ]; then
  one_way="$(awk -v rtt="$ETL_BENCH_S3_RTT_MS" 'BEGIN { print rtt / 2 }')"
  python3 "$here/delay_proxy.py" --target "${ETL_TEST_S3_ENDPOINT#http://}" --one-way-ms "$one_way" \
    --port-file "$envfile.proxy-port" ${ETL_BENCH_S3_LOG:+--log "$ETL_BENCH_S3_LOG"} >/dev/null &
  proxy_pid=$!
  for _ in $(seq 100); do [ -s "$envfile.proxy-port" ] && break; sleep 0.1; done
  [ -s "$envfile.proxy-port" ] || { echo "the delay proxy did not start" >&2; exit 1; }
  export ETL_TEST_S3_ENDPOINT="http://127.0.0.1:$(cat "$envfile.proxy-port")"
  echo "S3 requests go through a proxy with a round trip of $ETL_BENCH_S3_RTT_MS ms: $ETL_TEST_S3_ENDPOINT" >&2
fi

echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores" >&2
if [ -n "${ETL_BENCH_SERVER_CPUS:-}${ETL_BENCH_PIPELINE_CPUS:-}" ]; then
  echo "pinned: test servers on CPUs ${ETL_BENCH_SERVER_CPUS:-any}, the benchmark and its services on ${ETL_BENCH_PIPELINE_CPUS:-any}" >&2
fi
pin "${ETL_BENCH_PIPELINE_CPUS:-}" "$build/bin/distributed_benchmark" --bin-dir "$build/bin" "$@"
