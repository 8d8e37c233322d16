#!/usr/bin/env bash
# The transformer benchmark with its pandas reference, in one run:
#   bash bench/run_transform_bench.sh [transform_benchmark options, e.g. --repeat 9]
# Builds transform_benchmark (into $ETL_BENCH_BUILD_DIR, default build/), makes a
# venv under ~/.cache/spotify-etl/venv-bench with pinned pandas and pyarrow from
# PyPI when it is missing, then runs the benchmark, which runs
# bench/pandas_transform.py on the same generated raw file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
build="${ETL_BENCH_BUILD_DIR:-$root/build}"
cache="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
venv="$cache/venv-bench"
pandas_version=2.2.3
pyarrow_version=18.1.0
numpy_version=2.1.3

if ! "$venv/bin/python" -c "import pandas, pyarrow, sys; sys.exit(pandas.__version__ != '$pandas_version' or pyarrow.__version__ != '$pyarrow_version')" 2>/dev/null; then
  echo "creating $venv (pandas $pandas_version, pyarrow $pyarrow_version)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "pandas==$pandas_version" "pyarrow==$pyarrow_version" "numpy==$numpy_version"
fi

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DETL_BUILD_BENCH=ON
fi
ninja -C "$build" transform_benchmark >&2

exec "$build/bin/transform_benchmark" --python "$venv/bin/python" --pandas-script "$here/pandas_transform.py" "$@"
