#!/usr/bin/env bash
# ctest entry of the browser tests: installs chromium + Playwright when missing
# (install.sh; exit 77 = skipped), then runs test_dashboard.py against demos it starts.
# Usage: tests/browser/run.sh <bin dir> <artifacts dir> [unittest args]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="$(cd "$1" && pwd)"; artifacts="$2"; shift 2
py="$(bash "$here/install.sh")" || exit $?
mkdir -p "$artifacts"
artifacts="$(cd "$artifacts" && pwd)"
cd "$here"
export PYTHONDONTWRITEBYTECODE=1
ETL_BIN_DIR="$bin_dir" ETL_BROWSER_ARTIFACTS="$artifacts" ETL_SOURCE_DIR="$(cd "$here/../.." && pwd)" \
  exec "$py" -m unittest -v "${@:-test_dashboard}"
