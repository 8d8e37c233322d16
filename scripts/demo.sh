#!/usr/bin/env bash
# The newcomer's first command: installs what is missing, builds what the demo
# needs (the `spotify-etl` target and its libraries, not the test suite or the
# benchmarks), and runs `spotify-etl demo` (everything embedded, offline Spotify
# sample, no credentials). The build folder is the one scripts/build.sh and
# scripts/test.sh use, configured the same way, so a later test run reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dir="${ETL_BUILD_DIR:-build}"
# ccache, when installed, makes rebuilds and other checkouts of the tree cheap
# (the same settings as scripts/build.sh).
launcher=()
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" "${launcher[@]}" >&2
cmake --build "$dir" -j "${ETL_JOBS:-2}" --target spotify-etl >&2
exec "$dir/bin/spotify-etl" demo "$@"
