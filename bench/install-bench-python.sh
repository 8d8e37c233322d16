#!/usr/bin/env bash
# The pandas reference's Python (bench/pandas_transform.py): a venv under
# ${ETL_CACHE_DIR:-~/.cache/spotify-etl}/venv-bench with pinned pandas, pyarrow and
# numpy from PyPI, made when missing (cached, idempotent). Prints its python.
set -euo pipefail
cache="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
venv="$cache/venv-bench"
pandas_version=2.2.3
pyarrow_version=18.1.0
numpy_version=2.1.3

mkdir -p "$cache"
exec 9>"$cache/.install-bench-python.lock"
flock 9
if ! "$venv/bin/python" -c "import pandas, pyarrow, sys; sys.exit(pandas.__version__ != '$pandas_version' or pyarrow.__version__ != '$pyarrow_version')" 2>/dev/null; then
  echo "creating $venv (pandas $pandas_version, pyarrow $pyarrow_version)" >&2
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "pandas==$pandas_version" "pyarrow==$pyarrow_version" "numpy==$numpy_version" >&2
fi
echo "$venv/bin/python"
