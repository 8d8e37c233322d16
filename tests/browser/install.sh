#!/usr/bin/env bash
# Installs what the browser tests need, idempotently:
#   - Debian's chromium (apt; skipped when /usr/bin/chromium exists)
#   - Playwright for Python from PyPI in a venv: ${ETL_CACHE_DIR:-~/.cache/spotify-etl}/venv-browser
# Playwright drives the system chromium (no browser download: `playwright install` is never run).
# Prints the venv's python on stdout. Exit 77 when chromium cannot be installed here
# (not root and no sudo), so ctest reports the tests as skipped rather than failed.
set -euo pipefail

PLAYWRIGHT_VERSION="${ETL_TEST_PLAYWRIGHT_VERSION:-1.65.2}"
CACHE_DIR="${ETL_CACHE_DIR:-$HOME/.cache/spotify-etl}"
VENV="$CACHE_DIR/venv-browser"
CHROMIUM="${ETL_CHROMIUM:-/usr/bin/chromium}"

log() { printf 'browser-install: %s\n' "$*" >&2; }

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.install-browser.lock"
flock 9

missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo"; else
      log "missing ${missing[*]} and no root/sudo to install them: skipping"; exit 77
    fi
  fi
  log "installing Debian's ${missing[*]}"
  $SUDO apt-get update -qq >&2
  if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    log "apt-get could not install ${missing[*]}: skipping"; exit 77
  fi
fi

stamp="$VENV/.spotify-etl-stamp"
want="playwright==$PLAYWRIGHT_VERSION"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! "$VENV/bin/python" -c 'import playwright' 2>/dev/null; then
  log "installing $want into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$want" </dev/null >&2; then
    rm -rf "$VENV"
    log "ERROR: pip could not install $want"; exit 1
  fi
  printf '%s\n' "$want" >"$stamp"
fi
echo "$VENV/bin/python"
