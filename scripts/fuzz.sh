#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) into
# build-fuzz/ (or $ETL_FUZZ_BUILD_DIR) and runs each over its corpus in
# tests/fuzz/corpus/<target>/.
#
#   scripts/fuzz.sh                 # the default targets, 300 s each (ETL_FUZZ_SECONDS)
#   scripts/fuzz.sh --smoke         # every target, 15 s each: the ctest `fuzz_smoke` (label fuzz)
#   scripts/fuzz.sh sql_gate 600    # one target, 600 s
#
# New inputs go to build-fuzz/corpus/<target>/ (merge the interesting ones into
# the repository with `-merge=1`); a crash leaves build-fuzz/findings/<target>/crash-*
# and fails the run: add it to the corpus and a unit test when it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(sql_gate engine_wire s3_event s3_xml response_headers request_head pgwire pgwire_catalog raw_transform envelope requests iceberg_manifest spotify_responses)
smoke_targets=(sql_gate engine_wire s3_event s3_xml response_headers request_head pgwire pgwire_catalog raw_transform envelope requests iceberg_manifest spotify_responses)
seconds="${ETL_FUZZ_SECONDS:-300}"
seed=()
if [ "${1:-}" = "--smoke" ]; then
  seconds="${ETL_FUZZ_SMOKE_SECONDS:-15}"
  targets=("${smoke_targets[@]}")
  # A fixed seed: the suite's short run repeats the same mutations each time, so it
  # fails on a regression, not on the luck of the day. Long runs explore at random.
  seed=(-seed=1)
  shift
fi
if [ $# -ge 1 ]; then targets=("$1"); fi
if [ $# -ge 2 ]; then seconds="$2"; fi

bash scripts/setup.sh  # clang and libclang-rt (libFuzzer) come from Debian with the rest
dir="${ETL_FUZZ_BUILD_DIR:-build-fuzz}"
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
CC=clang CXX=clang++ cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DETL_FUZZ=ON \
  -DETL_BUILD_TESTS=OFF -DETL_BUILD_BENCH=OFF "${launcher[@]}" >&2
cmake --build "$dir" -j "${ETL_JOBS:-2}" --target "${targets[@]/#/fuzz_}" >&2

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
for t in "${targets[@]}"; do
  work="$dir/corpus/$t" findings="$dir/findings/$t"
  mkdir -p "$work" "$findings" "tests/fuzz/corpus/$t"
  echo "fuzz: $t for ${seconds}s" >&2
  if ! "$dir/bin/fuzz_$t" "${seed[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=8192 \
      -artifact_prefix="$findings/" -print_final_stats=1 "$work" "tests/fuzz/corpus/$t" >"$findings/log.txt" 2>&1; then
    echo "fuzz: $t FAILED (log: $findings/log.txt)" >&2
    tail -n 40 "$findings/log.txt" >&2
    failed=1
  else
    grep -E "stat::number_of_executed_units|stat::new_units_added" "$findings/log.txt" | sed "s/^/fuzz: $t /" >&2 || true
  fi
done
exit "$failed"
