#!/usr/bin/env bash
# Checks that deploy/Dockerfile's runtime stage installs every shared library
# the built binaries load: each library resolved by ldd (libduckdb.so aside,
# which the image copies) must belong to a package that the runtime stage's
# apt list pulls in (the list itself and its Depends, recursively) or that
# debian:bookworm-slim already has. Run on a Debian machine of the image's
# release, after the build.
#   deploy/scripts/check-image-libs.sh [bin-dir]        (default: build/bin)
# Exit 0: covered; 1: a library is missing from the image; 77: nothing to check.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin_dir="${1:-build/bin}"
dockerfile=deploy/Dockerfile

log() { printf 'check-image-libs: %s\n' "$*" >&2; }

binaries=()
for b in extractor transformer cataloger spotify-etl; do
  [ -x "$bin_dir/$b" ] && binaries+=("$bin_dir/$b")
done
if [ "${#binaries[@]}" -eq 0 ]; then
  log "SKIP: no binaries in $bin_dir (build first)"
  exit 77
fi
command -v dpkg-query >/dev/null && command -v apt-cache >/dev/null || { log "SKIP: not a Debian machine"; exit 77; }
# A sanitizer build (ETL_SANITIZE=1) loads libasan/libubsan, which the image's
# release build never does: nothing to say about the image.
libs_of_first="$(ldd "${binaries[0]}" 2>/dev/null || true)"   # not piped into grep -q: pipefail + SIGPIPE
if grep -qE 'lib(a|ub)san\.so' <<<"$libs_of_first"; then
  log "SKIP: $bin_dir holds a sanitizer build; the image is built without sanitizers"
  exit 77
fi

# The runtime stage's package list, between the markers.
mapfile -t listed < <(sed -n '/# runtime-packages-begin/,/# runtime-packages-end/p' "$dockerfile" \
  | grep -E '^[[:space:]]+[a-z0-9][a-z0-9.+-]+[[:space:]]*\\?$' | tr -d ' \\')
[ "${#listed[@]}" -gt 0 ] || { log "no package list between the runtime-packages markers of $dockerfile"; exit 1; }

# What the image has: bookworm-slim's essential libraries, plus the listed
# packages and everything they depend on.
declare -A have=([libc6]=1 [libgcc-s1]=1 [libstdc++6]=1 [zlib1g]=1 [libzstd1]=1 [liblz4-1]=1
  [libcrypt1]=1 [libselinux1]=1 [libpcre2-8-0]=1 [libgmp10]=1 [libacl1]=1 [libattr1]=1)
while read -r p; do
  p="${p%%:*}"
  [ -n "$p" ] && have[$p]=1
done < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
           --no-replaces --no-enhances --no-pre-depends "${listed[@]}" 2>/dev/null \
         | grep -v '^ ' | grep -v '^<' || true)
while read -r p; do have[${p%%:*}]=1; done < <(apt-cache depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances "${listed[@]}" 2>/dev/null | awk '/PreDepends:/ {print $2}')

missing=0
declare -A seen=()
for b in "${binaries[@]}"; do
  while read -r lib path; do
    case "$lib" in libduckdb.so*) continue ;; esac
    if [ "$path" = "not" ]; then
      log "$b: $lib not found by the loader here"
      missing=1
      continue
    fi
    [ -n "${seen[$path]:-}" ] && continue
    seen[$path]=1
    pkg="$(dpkg-query -S "$path" 2>/dev/null || dpkg-query -S "$(realpath "$path")" 2>/dev/null || true)"
    pkg="${pkg%%:*}"
    if [ -z "$pkg" ]; then
      log "$b: $path belongs to no Debian package"
      missing=1
    elif [ -z "${have[$pkg]:-}" ]; then
      log "$b: $path is in package $pkg, which the runtime stage of $dockerfile does not install"
      missing=1
    fi
  done < <(ldd "$b" | awk '/=>/ {print $1, $3}')
done
if [ "$missing" = 0 ]; then
  log "OK: ${#seen[@]} shared libraries of ${#binaries[@]} binaries are covered by: ${listed[*]}"
fi
exit "$missing"
