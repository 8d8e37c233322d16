#!/usr/bin/env bash
# ctest entry of the pgwire client tests: installs the clients and builds the pgx
# driver program (cached), then runs
# tests/pgwire/test_clients.py and test_tls.py against `spotify-etl demo` from <bin dir>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="${1:?usage: run.sh <build/bin>}"
python="$(bash "$here/install-clients.sh")"
export ETL_GRAFANA_DRIVER="$(bash "$here/build-grafana-driver.sh")"
export ETL_PGJDBC_JAR="$(bash "$here/fetch-pgjdbc.sh")"
export ETL_NODE_PGWIRE_DIR="$(bash "$here/install-node-clients.sh")"
export ETL_BIN_DIR="$bin_dir"
cd "$here"
exec "$python" -m unittest -v test_clients test_tls
