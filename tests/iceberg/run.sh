#!/usr/bin/env bash
# ctest entry of the Iceberg readers' self-check (tests/iceberg/selftest.py): installs the
# readers (scripts/install-iceberg-tools.sh, cached; exit 77 = skipped when they cannot be
# installed), then writes small Iceberg tables with PyIceberg and reads them back with
# read_tables.py, locally and, with scripts/test-servers.sh's ETL_TEST_S3_*, in MinIO.
# Usage: run.sh <DuckDB extension dir> (CMake's ETL_DUCKDB_EXTENSION_DIR)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
extensions="${1:-}"
if [ -z "$extensions" ] || [ ! -f "$extensions/iceberg.duckdb_extension" ]; then
  echo "iceberg selftest: SKIP: DuckDB's extensions are not cached ('$extensions'): run scripts/setup.sh and reconfigure" >&2
  exit 77
fi
python="$(bash "$root/scripts/install-iceberg-tools.sh" | tail -n 1)" || {
  status=$?; echo "iceberg selftest: the readers could not be installed (exit $status)" >&2; exit "$status"; }
export AWS_EC2_METADATA_DISABLED=true  # loopback only: never ask an instance metadata service
exec "$python" "$here/selftest.py" --duckdb-extensions "$extensions"
