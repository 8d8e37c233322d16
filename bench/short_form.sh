#!/usr/bin/env bash
# A benchmark's short form, as the default test suite runs it (ctest label `bench`):
# the benchmark on a small input, which must exit 0 and print the line that
# carries its comparison. It checks that the benchmark still runs and still
# compares, not how fast anything is (timed figures come from the full runs in
# bench/README.md, on a quiet machine).
#   bench/short_form.sh [--needs VAR]... [--python INSTALLER] --expect REGEX -- BENCHMARK [ARGS...]
# --needs: skip (exit 77) when VAR is unset, e.g. the test servers' ETL_TEST_S3_ENDPOINT.
# --python: a script that installs (cached) and prints the Python a benchmark
# needs, or `system` (python3); each argument @PYTHON@ becomes that Python. An
# installer that fails skips the test (77) with its message, as where Chromium
# cannot be installed without root.
set -uo pipefail
expect=""
python=""
while [ $# -gt 0 ]; do
  case "$1" in
    --needs)
      if [ -z "${!2:-}" ]; then
        echo "skipped: $2 is not set (scripts/test.sh starts the test servers)"
        exit 77
      fi
      shift 2 ;;
    --expect) expect="$2"; shift 2 ;;
    --python)
      if [ "$2" = system ]; then
        python=python3
      elif ! python="$(bash "$2" | tail -n 1)" || [ -z "$python" ]; then
        echo "skipped: $2 could not install the benchmark's Python"
        exit 77
      fi
      shift 2 ;;
    --) shift; break ;;
    *) echo "short_form.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -n "$expect" ] && [ $# -gt 0 ] || { echo "usage: short_form.sh [--needs VAR]... --expect REGEX -- BENCHMARK [ARGS...]" >&2; exit 2; }

args=()
for a in "$@"; do
  if [ "$a" = @PYTHON@ ]; then
    [ -n "$python" ] || { echo "short_form.sh: @PYTHON@ without --python" >&2; exit 2; }
    args+=("$python")
  else
    args+=("$a")
  fi
done
set -- "${args[@]}"

name="$(basename "$1")"
case "${2:-}" in *.py) name="$(basename "$2")" ;; esac
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
"$@" >"$out" 2>&1
rc=$?
cat "$out"
if [ "$rc" -ne 0 ]; then
  echo "short form: $name exited with $rc" >&2
  exit 1
fi
if ! grep -Eq -- "$expect" "$out"; then
  echo "short form: $name printed no line matching: $expect" >&2
  exit 1
fi
echo "short form: $name ran and printed its comparison"
