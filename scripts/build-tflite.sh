#!/usr/bin/env bash
# Builds the TFLite 2.14.1 C library from Debian's source with CMake against Debian 12's own system libraries, so that
# it loads in an ordinary dotnet host (no patched muxer, nothing newer than GLIBC_2.34 needed).
#
# Inputs, pinned by SHA-256 (a changed input changes the cache key; a second run with the same inputs does nothing):
#  - tensorflow_2.14.1+dfsg{.orig,-3.1.debian}.tar.xz from Debian's pool (testing); Debian's patches applied with
#    patch -p1 (the .dsc is not used), Debian's cmake switches from debian/rules;
#  - flatbuffers 23.5.26 source (Debian 12 has 2.0.8; TF 2.14's schema header needs 23.5.26), built into a private
#    prefix, library only;
#  - trixie's libruy-dev (ruy is not in Debian 12) static libraries, plus a hidden forwarding shim for the one glibc
#    2.38 symbol they reference (__isoc23_strtol);
#  - testing's libfft2d-dev (its cmake config hard-codes /usr: rewritten to the private prefix);
#  - Debian 12 packages: libabsl-dev libcpuinfo-dev libeigen3-dev libfarmhash-dev libfp16-dev libgemmlowp-dev
#    libneon-2-sse-dev libpthreadpool-dev cmake ninja-build (Debian 12's cpuinfo cmake config is copied with its
#    library path fixed).
# XNNPACK stays off (as in Debian's build): TF 2.14's delegate compiles against Debian's only newer XNNPACK
# (git20241108, trixie/forky), but that library needs GLIBC_2.38 and a pthreadpool newer than Debian 12's, so it would
# have to be built from source with its pthreadpool (see src/AccelSdk.TfLite/README.md): not done.
#
# Output: artifacts/tflite/<rid>/libtensorflowlite_c.so (+ BUILD-INFO). Usage: build-tflite.sh [linux-x64]
# Environment: ACCELSDK_TFLITE_BUILD_DIR (work folder, default artifacts/tflite-build), ACCELSDK_TFLITE_JOBS (ninja -j).
set -euo pipefail
# One compound command: bash reads it whole before running it, so editing this file during a build cannot derail it.
{
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RID="${1:-linux-x64}"
[ "$RID" = linux-x64 ] || { echo "build-tflite: only linux-x64 is built today (arm64 cross-build not done: see src/AccelSdk.TfLite/README.md)" >&2; exit 2; }
MULTIARCH=x86_64-linux-gnu
WORK="${ACCELSDK_TFLITE_BUILD_DIR:-$REPO/artifacts/tflite-build}"
OUTDIR="$REPO/artifacts/tflite/$RID"
JOBS="${ACCELSDK_TFLITE_JOBS:-$(nproc)}"

TF_VERSION=2.14.1+dfsg
TF_DEBIAN=3.1
TF_ORIG_SHA=9dfff0627def4e999f66a80d0fb57fd0651d12d525dcd67d6c24f1e9bca72b93
TF_DEBIAN_SHA=05f0c158488289368b06664d0e6e54a9d408936c479c9529e5f6fe9fa41b72a0
FB_VERSION=23.5.26+dfsg
FB_ORIG_SHA=0d309fd2c47bbbebd450e68d1419c336d53d1b8f5ce47e1f1f7f28f452fc6f3b
RUY_DEB=pool/main/r/ruy/libruy-dev_0.0.0~git20230215.21a85fe-2_amd64.deb
FFT2D_DEB=pool/main/o/oourafft/libfft2d-dev_1.0-3+b1_amd64.deb
SYSTEM_PKGS=(cmake ninja-build g++ libabsl-dev libcpuinfo-dev libeigen3-dev libfarmhash-dev libfp16-dev libgemmlowp-dev
  libneon-2-sse-dev libpthreadpool-dev)

log() { echo "build-tflite: $*" >&2; }

# The cache key: this script without its comments (it pins every input and switch) and the RID.
KEY="$(grep -v '^[[:space:]]*#' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)-$RID"
if [ -f "$OUTDIR/libtensorflowlite_c.so" ] && grep -qx "key=$KEY" "$OUTDIR/BUILD-INFO" 2>/dev/null; then
  log "up to date ($OUTDIR, key $KEY)"
  echo "$OUTDIR/libtensorflowlite_c.so"
  exit 0
fi

missing=()
for p in "${SYSTEM_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian 12 packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

MIRROR="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
DL="$WORK/downloads"
mkdir -p "$DL"

# fetch POOL_PATH SHA256|-: downloads once into $DL; a pinned hash is checked, a .deb is checked by dpkg-deb.
fetch() {
  local url="$MIRROR/$1" file="$DL/$(basename "$1")"
  if [ ! -s "$file" ]; then
    log "downloading $url"
    curl -fsSL --retry 3 -o "$file.part" "$url"
    mv "$file.part" "$file"
  fi
  if [ "$2" != - ]; then echo "$2  $file" | sha256sum -c --quiet - || { rm -f "$file"; log "checksum mismatch: $file"; exit 1; }; fi
  echo "$file"
}

TF_ORIG="$(fetch "pool/main/t/tensorflow/tensorflow_${TF_VERSION/+/%2b}.orig.tar.xz" $TF_ORIG_SHA)"
TF_DEB="$(fetch "pool/main/t/tensorflow/tensorflow_${TF_VERSION/+/%2b}-$TF_DEBIAN.debian.tar.xz" $TF_DEBIAN_SHA)"
FB_ORIG="$(fetch "pool/main/f/flatbuffers/flatbuffers_${FB_VERSION/+/%2b}.orig.tar.xz" $FB_ORIG_SHA)"
RUY="$(fetch "$RUY_DEB" -)"
FFT2D="$(fetch "$FFT2D_DEB" -)"

PREFIX="$WORK/prefix"
rm -rf "$PREFIX" "$WORK/src" "$WORK/build"
mkdir -p "$PREFIX" "$WORK/src" "$WORK/build"

log "flatbuffers $FB_VERSION into $PREFIX"
tar -xf "$FB_ORIG" -C "$WORK/src"
FB_SRC="$(find "$WORK/src" -maxdepth 1 -type d -name 'flatbuffers*' | head -1)"
cmake -S "$FB_SRC" -B "$WORK/build/flatbuffers" -G Ninja -Wno-dev -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DFLATBUFFERS_BUILD_TESTS=OFF -DFLATBUFFERS_BUILD_FLATC=OFF \
  -DFLATBUFFERS_BUILD_FLATHASH=OFF -DFLATBUFFERS_BUILD_FLATLIB=ON >/dev/null
nice -n 19 cmake --build "$WORK/build/flatbuffers" -j "$JOBS" >/dev/null
cmake --install "$WORK/build/flatbuffers" >/dev/null

log "ruy (trixie) and fft2d (testing) static libraries into $PREFIX"
dpkg-deb -x "$RUY" "$PREFIX/deb"
dpkg-deb -x "$FFT2D" "$PREFIX/deb"
sed -i "s#\"/usr/#\"$PREFIX/deb/usr/#g" "$PREFIX/deb/usr/lib/$MULTIARCH/cmake/fft2d/fft2d-config.cmake"
mkdir -p "$PREFIX/cpuinfo"
cp /usr/lib/cmake/cpuinfo/*.cmake "$PREFIX/cpuinfo/"
sed -i "s#\${_IMPORT_PREFIX}/lib/$MULTIARCH/#/usr/lib/$MULTIARCH/#g; s#\${_IMPORT_PREFIX}/include#/usr/include#g" "$PREFIX"/cpuinfo/*.cmake
cat > "$PREFIX/isoc23_shim.c" <<'EOF'
/* trixie's ruy static libraries were compiled against glibc 2.38, whose headers map strtol to __isoc23_strtol.
   Debian 12's glibc 2.36 has only strtol; the difference (C23 binary literals) does not matter to ruy. Hidden, so the
   TFLite library does not export it. */
#include <stdlib.h>
__attribute__((visibility("hidden"))) long __isoc23_strtol(const char *s, char **end, int base) { return strtol(s, end, base); }
EOF
cc -O2 -fPIC -c "$PREFIX/isoc23_shim.c" -o "$PREFIX/isoc23_shim.o"

log "tensorflow $TF_VERSION-$TF_DEBIAN: unpack and apply Debian's patches"
tar -xf "$TF_ORIG" -C "$WORK/src"
TF_SRC="$(find "$WORK/src" -maxdepth 1 -type d -name 'tensorflow*' | head -1)"
tar -xf "$TF_DEB" -C "$TF_SRC"
while read -r patch; do
  [ -n "$patch" ] && [ "${patch#\#}" = "$patch" ] || continue
  patch -p1 -s -d "$TF_SRC" < "$TF_SRC/debian/patches/$patch"
done < "$TF_SRC/debian/patches/series"

log "configure (Debian's switches from debian/rules, private prefix first)"
cmake -S "$TF_SRC/tensorflow/lite" -B "$WORK/build/tflite" -G Ninja -Wno-dev \
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DTFLITE_ENABLE_INSTALL=OFF -DTFLITE_ENABLE_GPU=OFF \
  -DTFLITE_ENABLE_NNAPI=OFF -DTFLITE_ENABLE_RESOURCE=ON -DTFLITE_ENABLE_RUY=ON -DTFLITE_ENABLE_XNNPACK=OFF \
  -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON -DSYSTEM_FARMHASH=ON -DSYSTEM_PTHREADPOOL=ON \
  -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
  -DCMAKE_PREFIX_PATH="$PREFIX;$PREFIX/deb/usr" \
  -Dabsl_DIR=/usr/lib/$MULTIARCH/cmake/absl/ \
  -Dcpuinfo_DIR="$PREFIX/cpuinfo" \
  -DEigen3_DIR=/usr/share/eigen3/cmake/ \
  -Dfft2d_DIR="$PREFIX/deb/usr/lib/$MULTIARCH/cmake/fft2d/" \
  -Druy_DIR="$PREFIX/deb/usr/lib/$MULTIARCH/cmake/ruy/" \
  -DGEMMLOWP_SOURCE_DIR=/usr/include/gemmlowp \
  -DNEON_2_SSE_DIR=/usr/lib/cmake/NEON_2_SSE/ \
  -DCMAKE_SHARED_LINKER_FLAGS="$PREFIX/isoc23_shim.o -Wl,--as-needed" >/dev/null
log "compile ($JOBS jobs, nice 19): about 11 minutes on 2 idle cores"
nice -n 19 cmake --build "$WORK/build/tflite" -j "$JOBS" --target tensorflow-lite

LIB="$(find "$WORK/build/tflite" -maxdepth 1 -name 'libtensorflow-lite.so.*' -type f | head -1)"
[ -n "$LIB" ] || { log "no libtensorflow-lite.so.* produced"; exit 1; }
mkdir -p "$OUTDIR"
cp "$LIB" "$OUTDIR/libtensorflowlite_c.so.tmp"
strip --strip-unneeded "$OUTDIR/libtensorflowlite_c.so.tmp"
mv "$OUTDIR/libtensorflowlite_c.so.tmp" "$OUTDIR/libtensorflowlite_c.so"
GLIBC_MAX="$(objdump -T "$OUTDIR/libtensorflowlite_c.so" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1)"
{
  echo "key=$KEY"
  echo "source=tensorflow $TF_VERSION-$TF_DEBIAN (Debian), flatbuffers $FB_VERSION, $(basename "$RUY"), $(basename "$FFT2D")"
  echo "xnnpack=off"
  echo "glibc-max=$GLIBC_MAX"
  echo "needed=$(objdump -p "$OUTDIR/libtensorflowlite_c.so" | awk '/NEEDED/{printf "%s ", $2}')"
} > "$OUTDIR/BUILD-INFO"
log "built $OUTDIR/libtensorflowlite_c.so (needs at most $GLIBC_MAX)"
echo "$OUTDIR/libtensorflowlite_c.so"
exit 0
}
