#!/usr/bin/env bash
# ctest entry of tests/iceberg/test_pipeline.py: the embedded pipeline's Iceberg tables read by
# PyIceberg and DuckDB's iceberg_scan (scripts/install-iceberg-tools.sh, cached; exit 77 =
# skipped when the readers or DuckDB's extensions cannot be installed).
# Usage: run_pipeline.sh <bin dir> <DuckDB extension dir>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$1"
extensions="${2:-}"
if [ -z "$extensions" ] || [ ! -f "$extensions/iceberg.duckdb_extension" ]; then
  echo "iceberg pipeline: SKIP: DuckDB's extensions are not cached ('$extensions'): run scripts/setup.sh and reconfigure" >&2
  exit 77
fi
python="$(bash "$root/scripts/install-iceberg-tools.sh" | tail -n 1)" || {
  status=$?; echo "iceberg pipeline: the readers could not be installed (exit $status)" >&2; exit "$status"; }
export AWS_EC2_METADATA_DISABLED=true
exec "$python" "$here/test_pipeline.py" --bin-dir "$bin" --duckdb-extensions "$extensions"
