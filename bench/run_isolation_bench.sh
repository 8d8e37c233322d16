#!/usr/bin/env bash
# The cost of ETL_QUERY_ISOLATION=process against none, side by side in one run
# (bench/README.md, "isolation"): builds spotify-etl, runs bench/isolation_bench.py.
# Usage: bash bench/run_isolation_bench.sh [--rounds N] [--queries N]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${ETL_BUILD_DIR:-build}"
[ -x "$build_dir/bin/spotify-etl" ] || bash scripts/build.sh >/dev/null
cmake --build "$build_dir" --target spotify-etl >&2
PYTHONDONTWRITEBYTECODE=1 exec python3 bench/isolation_bench.py --bin-dir "$build_dir/bin" "$@"
