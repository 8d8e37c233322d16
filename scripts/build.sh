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
# ccache, when installed, makes rebuilds and other checkouts of the tree cheap.
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "${extra[@]}" "${launcher[@]}" >&2
cmake --build "$dir" -j "${ETL_JOBS:-2}" >&2
echo "$dir"
