#!/usr/bin/env bash
# Dashboard first load with a warm cache vs the same API requests issued serially
# by a plain client (bench/README.md). Builds spotify-etl, installs chromium +
# Playwright (tests/browser/install.sh), runs bench/dashboard_bench.py.
# Usage: bash bench/run_dashboard_bench.sh [--rounds N]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${ETL_BUILD_DIR:-build}"
[ -x "$build_dir/bin/spotify-etl" ] || bash scripts/build.sh >/dev/null
cmake --build "$build_dir" --target spotify-etl >&2
py="$(bash tests/browser/install.sh)"
PYTHONDONTWRITEBYTECODE=1 exec "$py" bench/dashboard_bench.py --bin-dir "$build_dir/bin" "$@"
