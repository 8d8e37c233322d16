#!/usr/bin/env bash
# Installs everything spotify-etl needs to build on a fresh Debian machine (and
# ccache, which build.sh uses when present: a fresh clone then rebuilds in minutes;
# gdb, with which a test that hangs prints its threads' stacks: tests/support/test_watchdog.cpp).
# Idempotent; downloads are cached under ${ETL_CACHE_DIR:-~/.cache/spotify-etl}.
set -euo pipefail

DUCKDB_VERSION="${DUCKDB_VERSION:-1.4.4}"
DUCKDB_BINDINGS_REVISION="${DUCKDB_BINDINGS_REVISION:-r.1}"
# DuckDB's signed extensions for that engine, from their official PyPI wheels
# (duckdb-ext-<name>); read Iceberg tables locally and in S3.
DUCKDB_EXTENSIONS_VERSION="${DUCKDB_EXTENSIONS_VERSION:-1.4.4.20260205}"
DUCKDB_EXTENSIONS=(httpfs avro iceberg)
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"

log() { printf 'setup: %s\n' "$*" >&2; }

need_pkgs=(build-essential cmake ninja-build pkg-config git ca-certificates curl
  libcpp-httplib-dev nlohmann-json3-dev libspdlog-dev libfmt-dev librdkafka-dev
  libcurl4-openssl-dev libssl-dev libsimdjson-dev libgtest-dev libgmock-dev googletest
  libbenchmark-dev clang libclang-rt-14-dev libavro-dev libre2-dev zlib1g-dev ccache gdb)
# npm and python3 may come from elsewhere (nodesource, pyenv): only install them if absent.
command -v npm >/dev/null 2>&1 || need_pkgs+=(npm)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3 python3-venv)
# ETL_SETUP_DUCKDB_EXTENSIONS: 1 (default) all of DuckDB's extensions above, 0 none,
# or the names of some (the image build: "httpfs", what the cataloger loads).
case "${ETL_SETUP_DUCKDB_EXTENSIONS:-1}" in
  1) ;;
  0) DUCKDB_EXTENSIONS=() ;;
  *) read -r -a DUCKDB_EXTENSIONS <<<"${ETL_SETUP_DUCKDB_EXTENSIONS//,/ }" ;;
esac
if ((${#DUCKDB_EXTENSIONS[@]})); then
  python3 -m pip --version >/dev/null 2>&1 || need_pkgs+=(python3-pip)  # downloads DuckDB's extensions
fi

missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# DuckDB's C library: libduckdb.so from @duckdb/node-bindings-linux-x64, duckdb.h from
# the duckdb npm package of the same version. A user with their own DuckDB passes
# -DDUCKDB_ROOT=<dir with include/duckdb.h and lib/libduckdb.so> to CMake instead.
duck_dir="$CACHE_DIR/duckdb-$DUCKDB_VERSION"
if [ ! -f "$duck_dir/lib/libduckdb.so" ] || [ ! -f "$duck_dir/include/duckdb.h" ]; then
  log "fetching DuckDB $DUCKDB_VERSION from npm into $duck_dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "@duckdb/node-bindings-linux-x64@$DUCKDB_VERSION-$DUCKDB_BINDINGS_REVISION" "duckdb@$DUCKDB_VERSION" >/dev/null)
  mkdir -p "$tmp/b" "$tmp/h" "$duck_dir/lib" "$duck_dir/include"
  tar xzf "$tmp"/duckdb-node-bindings-linux-x64-*.tgz -C "$tmp/b" package/libduckdb.so
  tar xzf "$tmp"/duckdb-"$DUCKDB_VERSION".tgz -C "$tmp/h" package/src/duckdb/src/include/duckdb.h
  cp "$tmp/b/package/libduckdb.so" "$duck_dir/lib/libduckdb.so.tmp" && mv "$duck_dir/lib/libduckdb.so.tmp" "$duck_dir/lib/libduckdb.so"
  cp "$tmp/h/package/src/duckdb/src/include/duckdb.h" "$duck_dir/include/duckdb.h"
fi
log "DuckDB $DUCKDB_VERSION at $duck_dir"

# The extensions unpacked into DuckDB's extension_directory layout, so a connection
# with extension_directory=$duck_dir/extensions (or LOAD '<path>') works offline.
ext_dir="$duck_dir/extensions/v$DUCKDB_VERSION/linux_amd64"
for ext in "${DUCKDB_EXTENSIONS[@]}"; do
  [ -f "$ext_dir/$ext.duckdb_extension" ] && continue
  log "fetching DuckDB extension $ext $DUCKDB_EXTENSIONS_VERSION from PyPI into $ext_dir"
  etmp=$(mktemp -d)
  python3 -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --dest "$etmp" \
    "duckdb-ext-$ext==$DUCKDB_EXTENSIONS_VERSION" </dev/null >&2
  mkdir -p "$ext_dir"
  python3 - "$etmp"/duckdb_ext_"$ext"-*.whl "duckdb_ext/extensions/v$DUCKDB_VERSION/linux_amd64/$ext.duckdb_extension" \
      "$ext_dir/$ext.duckdb_extension.tmp" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl, whl.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$ext_dir/$ext.duckdb_extension.tmp" "$ext_dir/$ext.duckdb_extension"
  rm -rf "$etmp"
done
[ ${#DUCKDB_EXTENSIONS[@]} -eq 0 ] || log "DuckDB extensions ${DUCKDB_EXTENSIONS[*]} at $ext_dir"

# Chart.js for the cataloger's web dashboard (services/cataloger/ui/README.md): the
# pinned npm package's UMD build, embedded into the binary at build time.
CHARTJS_VERSION="${CHARTJS_VERSION:-4.6.1}"
# sha256 of chart.js-4.6.1.tgz as the registry serves it (checked only for that version)
CHARTJS_SHA256="9345dacdf4bb4c5d40321f4b9aafab6fe676d37a534fc0bc2d17c4c4e29c4f00"
chart_dir="$CACHE_DIR/chart.js-$CHARTJS_VERSION"
if [ ! -f "$chart_dir/chart.umd.min.js" ] || [ ! -f "$chart_dir/LICENSE.md" ]; then
  log "fetching Chart.js $CHARTJS_VERSION from npm into $chart_dir"
  ctmp=$(mktemp -d)
  (cd "$ctmp" && npm pack --silent "chart.js@$CHARTJS_VERSION" >/dev/null)
  if [ "$CHARTJS_VERSION" = 4.6.1 ] && ! echo "$CHARTJS_SHA256  $ctmp/chart.js-4.6.1.tgz" | sha256sum -c --quiet -; then
    log "ERROR: chart.js-4.6.1.tgz does not have the pinned sha256"; exit 1
  fi
  tar xzf "$ctmp/chart.js-$CHARTJS_VERSION.tgz" -C "$ctmp" package/dist/chart.umd.min.js package/LICENSE.md
  mkdir -p "$chart_dir"
  cp "$ctmp/package/LICENSE.md" "$chart_dir/LICENSE.md"
  cp "$ctmp/package/dist/chart.umd.min.js" "$chart_dir/chart.umd.min.js.tmp" && mv "$chart_dir/chart.umd.min.js.tmp" "$chart_dir/chart.umd.min.js"
  rm -rf "$ctmp"
fi
log "Chart.js $CHARTJS_VERSION at $chart_dir"
