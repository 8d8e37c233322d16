#!/usr/bin/env bash
# The transformer benchmark with its pandas reference, in one run:
#   bash bench/run_transform_bench.sh [transform_benchmark options, e.g. --repeat 9]
# Builds transform_benchmark (into $ETL_BENCH_BUILD_DIR, default build/), makes a
# venv under ~/.cache/spotify-etl/venv-bench with pinned pandas and pyarrow from
# PyPI when it is missing (install-bench-python.sh), then runs the benchmark, which runs
# bench/pandas_transform.py on the same generated raw file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${ETL_BENCH_BUILD_DIR:-$root/build}"
python="$(bash "$here/install-bench-python.sh")"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DETL_BUILD_BENCH=ON
fi
ninja -C "$build" transform_benchmark >&2

exec "$build/bin/transform_benchmark" --python "$python" --pandas-script "$here/pandas_transform.py" "$@"
