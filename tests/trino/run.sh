#!/usr/bin/env bash
# ctest entry of the optional Trino test (ctest trino_iceberg, label `trino`; not in the
# default suite): installs Trino (scripts/install-trino.sh, cached) and the Python the
# helpers need (scripts/install-iceberg-tools.sh' venv, for PyArrow's S3 client), then runs
# test_trino.py. Exit 77 = skipped: no JDK 24+, Trino or the venv cannot be installed, or
# the test MinIO does not run.
#   run.sh <bin dir>
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin_dir="$1"
shift
trino="$(bash "$root/scripts/install-trino.sh")" || {
  status=$?; echo "trino: Trino could not be installed (exit $status)" >&2; exit "$status"; }
java_home="$(printf '%s\n' "$trino" | sed -n 's/^JAVA_HOME=//p' | tail -n 1)"
trino_home="$(printf '%s\n' "$trino" | sed -n 's/^TRINO_HOME=//p' | tail -n 1)"
python="$(bash "$root/scripts/install-iceberg-tools.sh" | tail -n 1)" || {
  status=$?; echo "trino: the Python helpers could not be installed (exit $status)" >&2; exit "$status"; }
export AWS_EC2_METADATA_DISABLED=true  # loopback only: never ask an instance metadata service
exec "$python" "$here/test_trino.py" --bin-dir "$bin_dir" --java-home "$java_home" --trino-home "$trino_home" "$@"
