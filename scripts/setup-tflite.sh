#!/usr/bin/env bash
# Installs what the TFLite backend, its binding generator and its tests need, without touching the system's libc:
#  - Debian 12 packages: patchelf, libclang (binding generator), espeak-ng + sox (wake-word test);
#  - TFLite 2.14.1 (Debian forky's libtensorflow-lite2.14.1) and its runtime closure, fetched with a *private*
#    apt configuration and unpacked into .tflite-runtime/root (git-ignored);
#  - the -dev package's headers (input of the binding generator) and flatbuffer schema, in the same root;
#  - a copy of the dotnet muxer patched to run on that root's glibc (.tflite-runtime/dotnet), so a test host
#    started with it can dlopen libtensorflow-lite.so.2.14.1.
# Idempotent and quiet: a second run does nothing but check. Prints the patched host's path on its last line.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${ACCELSDK_TFLITE_RUNTIME_DIR:-$REPO/.tflite-runtime}"
ROOT="$DEST/root"
APTDIR="$DEST/apt"
SUITE="${ACCELSDK_TFLITE_SUITE:-forky}"
STAMP="$DEST/.complete-v1"

# The runtime closure measured on Debian 12 (glibc 2.36): the library and what it needs that bookworm lacks or has too old.
RUNTIME_PKGS=(libtensorflow-lite2.14.1 libc6 libstdc++6 libgcc-s1 gcc-16-base libabsl20260526 libcpuinfo0
  libfarmhash0 libpthreadpool0 libc-gconv-modules-extra libidn2-0 libunistring5)
# Headers for the binding generator; wake-word models (Architecture: all).
EXTRA_PKGS=(libtensorflow-lite-dev python3-pyopen-wakeword python3-pymicro-wakeword)

log() { echo "setup-tflite: $*" >&2; }

need_apt=()
command -v patchelf >/dev/null || need_apt+=(patchelf)
command -v espeak-ng >/dev/null || need_apt+=(espeak-ng)
command -v sox >/dev/null || need_apt+=(sox)
[ -e /usr/lib/x86_64-linux-gnu/libclang-14.so.1 ] || need_apt+=(libclang1-14)
[ -d /usr/lib/llvm-14/lib/clang/14.0.6/include ] || need_apt+=(libclang-common-14-dev)
[ -e /usr/include/stdint.h ] || need_apt+=(libc6-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -f "$STAMP" ]; then
  rm -rf "$DEST"
  mkdir -p "$ROOT" "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/etc/preferences.d"
  # The private sources list names the suite and reuses the mirror URI the system already uses.
  MIRROR="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  MIRROR="${MIRROR:-http://deb.debian.org/debian}"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" > "$APTDIR/etc/sources.list"
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$APTDIR/etc/sources.list"
    -o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
    -o "Dir::Etc::Preferences=$APTDIR/etc/preferences"
    -o "Dir::Etc::PreferencesParts=$APTDIR/etc/preferences.d"
    -o "Dir::State::Lists=$APTDIR/lists"
    -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Cache::archives=$APTDIR/archives"
    -o "Acquire::Check-Valid-Until=false"
    -o "Acquire::Languages=none"
    -o "APT::Architecture=amd64"
    -o "APT::Architectures=amd64"
    -o "Debug::NoLocking=true"
    -o "APT::Sandbox::User=root"
  )
  mkdir -p "$APTDIR/etc/sources.list.d" "$APTDIR/cache"
  log "reading the $SUITE package lists (private apt configuration)"
  apt-get "${APT_OPTS[@]}" update -qq >/dev/null
  (cd "$APTDIR/archives" && apt-get "${APT_OPTS[@]}" download -qq "${RUNTIME_PKGS[@]}" "${EXTRA_PKGS[@]}" >/dev/null)
  for deb in "$APTDIR"/archives/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  dpkg-deb -f "$(ls "$APTDIR"/archives/libtensorflow-lite2.14.1_*.deb)" Version > "$DEST/tflite-version"
  rm -rf "$APTDIR/lists" "$APTDIR/cache"
  touch "$STAMP"
fi

LIBDIR="$ROOT/usr/lib/x86_64-linux-gnu"
LOADER="$ROOT/usr/lib64/ld-linux-x86-64.so.2"
[ -e "$LOADER" ] || LOADER="$LIBDIR/ld-linux-x86-64.so.2"
[ -e "$LIBDIR/libtensorflow-lite.so.2.14.1" ] || { log "libtensorflow-lite.so.2.14.1 missing under $LIBDIR"; exit 1; }

# The patched muxer: same dotnet root (it finds the SDK/runtime beside its real path via DOTNET_ROOT), forky's
# loader, and DT_RPATH (not RUNPATH) so that libraries dlopen'ed later by P/Invoke resolve there too.
DOTNET_REAL="$(readlink -f "$(command -v dotnet)")"
HOST="$DEST/dotnet"
if [ ! -x "$HOST" ] || [ "$DOTNET_REAL" -nt "$HOST" ] || ! patchelf --print-interpreter "$HOST" 2>/dev/null | grep -qF "$LOADER"; then
  cp "$DOTNET_REAL" "$HOST.tmp"
  patchelf --set-interpreter "$LOADER" --force-rpath --set-rpath "$LIBDIR" "$HOST.tmp"
  mv "$HOST.tmp" "$HOST"
  # The muxer looks for host/ and shared/ beside itself; point them at the real installation.
  DOTNET_DIR="$(dirname "$DOTNET_REAL")"
  for entry in host shared sdk packs templates sdk-manifests metadata; do
    [ -e "$DOTNET_DIR/$entry" ] && ln -sfn "$DOTNET_DIR/$entry" "$DEST/$entry"
  done
fi
bash "$REPO/scripts/fetch-tflite-models.sh"
"$HOST" --list-runtimes >/dev/null || { log "the patched dotnet host does not start"; exit 1; }
echo "$HOST"
