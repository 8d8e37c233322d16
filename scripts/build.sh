#!/usr/bin/env bash
# Configures and builds into build/ (or $ETL_BUILD_DIR). ETL_SANITIZE=1 builds
# with ASan/UBSan into build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${ETL_SANITIZE:-0}" = "1" ]; then
  dir="${ETL_BUILD_DIR:-build-asan}"
  extra=(-DETL_SANITIZE=ON -DETL_BUILD_BENCH=OFF)
else
  dir="${ETL_BUILD_DIR:-build}"
  extra=()
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "${extra[@]}" >&2
cmake --build "$dir" -j "${ETL_JOBS:-2}" >&2
echo "$dir"
