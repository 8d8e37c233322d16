#!/usr/bin/env bash
# ctest entry of the Iceberg tests (tests/iceberg/*.py): installs the readers
# (scripts/install-iceberg-tools.sh, cached; exit 77 = skipped when they or DuckDB's
# extensions cannot be installed), then runs one script with the extensions folder.
#   run.sh selftest.py <ext dir>                  the readers' self-check (local, and MinIO with ETL_TEST_S3_*)
#   run.sh test_pipeline.py <ext dir> --bin-dir D the pipeline's tables read by PyIceberg and DuckDB
#   run.sh test_kill.py <ext dir> --bin-dir D     a cataloger killed while it commits on MinIO
#   run.sh test_orphans.py <ext dir> --bin-dir D  orphan removal by a cataloger's maintenance
#   run.sh test_reprocess.py <ext dir> --bin-dir D /v1/reprocess after a compaction, through spotify-etl up
# <ext dir>: CMake's ETL_DUCKDB_EXTENSION_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
script="$1"
extensions="${2:-}"
shift 2 || shift $#
if [ -z "$extensions" ] || [ ! -f "$extensions/iceberg.duckdb_extension" ]; then
  echo "iceberg $script: SKIP: DuckDB's extensions are not cached ('$extensions'): run scripts/setup.sh and reconfigure" >&2
  exit 77
fi
python="$(bash "$root/scripts/install-iceberg-tools.sh" | tail -n 1)" || {
  status=$?; echo "iceberg $script: the readers could not be installed (exit $status)" >&2; exit "$status"; }
export AWS_EC2_METADATA_DISABLED=true  # loopback only: never ask an instance metadata service
exec "$python" "$here/$script" --duckdb-extensions "$extensions" "$@"
