#!/usr/bin/env bash
# The newcomer's first command: installs what is missing, builds, and runs
# `spotify-etl demo` (everything embedded, offline Spotify sample, no credentials).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=$(bash scripts/build.sh | tail -n 1)
exec "$build_dir/bin/spotify-etl" demo "$@"
