#!/usr/bin/env bash
# Builds the TFLite 2.14.1 C library from Debian's source with CMake against Debian 12's own system libraries, so that
# it loads in an ordinary dotnet host (no patched muxer, nothing newer than GLIBC_2.34 needed): natively for linux-x64,
# and cross for linux-arm64 with cmake/toolchains/linux-arm64.cmake (Debian 12's aarch64-linux-gnu g++).
#
# Inputs, pinned by SHA-256 (a changed input changes the cache key; a second run with the same inputs does nothing):
#  - tensorflow_2.14.1+dfsg{.orig,-3.1.debian}.tar.xz from Debian's pool (testing); Debian's patches applied with
#    patch -p1 (the .dsc is not used), Debian's cmake switches from debian/rules;
#  - flatbuffers 23.5.26 source (Debian 12 has 2.0.8; TF 2.14's schema header needs 23.5.26), built into a private
#    prefix, library only (for the target architecture);
#  - trixie's libruy-dev (ruy is not in Debian 12) static libraries of the target architecture, plus a hidden
#    forwarding shim for the one glibc 2.38 symbol they reference (__isoc23_strtol);
#  - testing's libfft2d-dev of the target architecture (its cmake config hard-codes /usr: rewritten to the prefix);
#  - Debian 12 packages: libabsl-dev libcpuinfo-dev libeigen3-dev libfarmhash-dev libfp16-dev libgemmlowp-dev
#    libpthreadpool-dev (+ libneon-2-sse-dev on x64); Debian 12's cpuinfo cmake config is copied with its library
#    path fixed. linux-x64: installed on the system with cmake ninja-build g++. linux-arm64: the host gets cmake,
#    ninja-build and g++-aarch64-linux-gnu; the arm64 packages (and their runtime libraries) are fetched with a private
#    apt configuration (bookworm, arm64) and unpacked into a private sysroot, so the system's dpkg is not touched.
#  - with XNNPACK (ACCELSDK_TFLITE_XNNPACK=on, the default for both RIDs): the XNNPACK delegate against Debian's
#    xnnpack 0.0~git20241108 source (TF 2.14 pins b9d4073a, which Debian does not have; Debian 12's 20220216 is older
#    than the pin), with the cpuinfo 0.0~git20250905 and pthreadpool 0.0~git20240616 sources it needs (Debian 12's are
#    too old: they lack cpuinfo_has_x86_avxvnni, pthreadpool_parallelize_*_with_thread, ...) and FXdiv's header, all
#    from Debian's pool; cpuinfo and pthreadpool are built static and PIC into the private prefix and linked into the
#    library with their symbols hidden, so Debian 12's older shared ones are never loaded. XNNPACK builds only the
#    production microkernels of the target ISA (XNNPACK_BUILD_ALL_MICROKERNELS=OFF), static. No KleidiAI (Debian has
#    none), and so no SME/SME2 kernels either: XNNPACK's SME2 GEMM and packing are wrappers of KleidiAI that would only
#    assert without it (GCC 12 would otherwise get XNNPACK_ENABLE_ARM_SME2=ON, which checks only Clang's version).
#
# Output: artifacts/tflite/<rid>/libtensorflowlite_c.so (+ BUILD-INFO). Usage: build-tflite.sh [linux-x64|linux-arm64]
# Environment: ACCELSDK_TFLITE_BUILD_DIR (work folder, default artifacts/tflite-build: downloads shared, the rest per
# RID), ACCELSDK_TFLITE_JOBS (ninja -j), ACCELSDK_TFLITE_XNNPACK (on|off; default on; part of the cache key).
set -euo pipefail
# One compound command: bash reads it whole before running it, so editing this file during a build cannot derail it.
{
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# --tf-source: only fetch (once, checked) the TensorFlow source tarball and print its path (the binding generator takes
# the XNNPACK delegate's header from it: Debian's -dev package lacks it).
MODE=build
if [ "${1:-}" = --tf-source ]; then MODE=tf-source; shift; fi
RID="${1:-linux-x64}"
BUILD_ROOT="${ACCELSDK_TFLITE_BUILD_DIR:-$REPO/artifacts/tflite-build}"
WORK="$BUILD_ROOT/$RID"
case "$RID" in
  linux-x64)
    MULTIARCH=x86_64-linux-gnu ARCH=amd64 CROSS="" DEPS=/usr XNNPACK_DEFAULT=on
    SYSTEM_PKGS=(cmake ninja-build g++ libabsl-dev libcpuinfo-dev libeigen3-dev libfarmhash-dev libfp16-dev
      libgemmlowp-dev libneon-2-sse-dev libpthreadpool-dev) ;;
  linux-arm64)
    MULTIARCH=aarch64-linux-gnu ARCH=arm64 CROSS=aarch64-linux-gnu- DEPS="$WORK/sysroot/usr" XNNPACK_DEFAULT=on
    SYSTEM_PKGS=(cmake ninja-build gcc-aarch64-linux-gnu g++-aarch64-linux-gnu)
    TARGET_PKGS=(libabsl-dev libabsl20220623 libcpuinfo-dev libcpuinfo0 libeigen3-dev libfarmhash-dev libfarmhash0
      libfp16-dev libgemmlowp-dev libpthreadpool-dev libpthreadpool0) ;;
  *) echo "build-tflite: unknown RID '$RID' (linux-x64 or linux-arm64)" >&2; exit 2 ;;
esac
OUTDIR="$REPO/artifacts/tflite/$RID"
JOBS="${ACCELSDK_TFLITE_JOBS:-$(nproc)}"
XNNPACK="${ACCELSDK_TFLITE_XNNPACK:-$XNNPACK_DEFAULT}"
case "$XNNPACK" in on|off) ;; *) echo "build-tflite: ACCELSDK_TFLITE_XNNPACK must be on or off, not '$XNNPACK'" >&2; exit 2 ;; esac

TF_VERSION=2.14.1+dfsg
TF_DEBIAN=3.1
TF_ORIG_SHA=9dfff0627def4e999f66a80d0fb57fd0651d12d525dcd67d6c24f1e9bca72b93
TF_DEBIAN_SHA=05f0c158488289368b06664d0e6e54a9d408936c479c9529e5f6fe9fa41b72a0
FB_VERSION=23.5.26+dfsg
FB_ORIG_SHA=0d309fd2c47bbbebd450e68d1419c336d53d1b8f5ce47e1f1f7f28f452fc6f3b
RUY_DEB=pool/main/r/ruy/libruy-dev_0.0.0~git20230215.21a85fe-2_$ARCH.deb
FFT2D_DEB=pool/main/o/oourafft/libfft2d-dev_1.0-3+b1_$ARCH.deb
XNNPACK_ORIG=pool/main/x/xnnpack/xnnpack_0.0~git20241108.4ea82e5.orig.tar.xz
XNNPACK_ORIG_SHA=90bde2caef0f880f627bab0dc805a86c4b8070cd98e3243db3046ab3f3be1a99
CPUINFO_ORIG=pool/main/c/cpuinfo/cpuinfo_0.0~git20250905.877328f.orig.tar.xz
CPUINFO_ORIG_SHA=557ca404a3836b9f335a3a06b65ff9fe9dbaaefab7fb5c0185f53d9f33615a10
PTHREADPOOL_ORIG=pool/main/p/pthreadpool/pthreadpool_0.0~git20240616.560c60d.orig.tar.xz
PTHREADPOOL_ORIG_SHA=4cc3cbd933b28131d2a34edc54f76af9fb41bc490af5eae1a5bd3cd07ea90708
FXDIV_ORIG=pool/main/f/fxdiv/fxdiv_0.0~git20200417.b408327.orig.tar.xz
FXDIV_ORIG_SHA=7953482badaf4cb34026c3487c257b8e4ab2df061c019bd6fabbbc12ad52c44b

log() { echo "build-tflite: $*" >&2; }

MIRROR="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
DL="$BUILD_ROOT/downloads"
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

if [ "$MODE" = tf-source ]; then
  fetch "pool/main/t/tensorflow/tensorflow_${TF_VERSION/+/%2b}.orig.tar.xz" $TF_ORIG_SHA
  exit 0
fi

# The cache key: this script without its comments (it pins every input and switch) and the RID.
KEY="$(grep -v '^[[:space:]]*#' "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)-$RID-xnnpack-$XNNPACK"
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

TF_ORIG="$(fetch "pool/main/t/tensorflow/tensorflow_${TF_VERSION/+/%2b}.orig.tar.xz" $TF_ORIG_SHA)"
TF_DEB="$(fetch "pool/main/t/tensorflow/tensorflow_${TF_VERSION/+/%2b}-$TF_DEBIAN.debian.tar.xz" $TF_DEBIAN_SHA)"
FB_ORIG="$(fetch "pool/main/f/flatbuffers/flatbuffers_${FB_VERSION/+/%2b}.orig.tar.xz" $FB_ORIG_SHA)"
RUY="$(fetch "$RUY_DEB" -)"
FFT2D="$(fetch "$FFT2D_DEB" -)"
if [ "$XNNPACK" = on ]; then
  XNNPACK_TAR="$(fetch "$XNNPACK_ORIG" $XNNPACK_ORIG_SHA)"
  CPUINFO_TAR="$(fetch "$CPUINFO_ORIG" $CPUINFO_ORIG_SHA)"
  PTHREADPOOL_TAR="$(fetch "$PTHREADPOOL_ORIG" $PTHREADPOOL_ORIG_SHA)"
  FXDIV_TAR="$(fetch "$FXDIV_ORIG" $FXDIV_ORIG_SHA)"
fi

PREFIX="$WORK/prefix"
rm -rf "$PREFIX" "$WORK/src" "$WORK/build" "$WORK/sysroot"
mkdir -p "$PREFIX" "$WORK/src" "$WORK/build"

CROSS_ARGS=()
if [ -n "$CROSS" ]; then
  log "Debian 12's $ARCH packages into the private sysroot $WORK/sysroot: ${TARGET_PKGS[*]}"
  APTDIR="$WORK/apt"
  rm -rf "$APTDIR"
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/etc/sources.list.d" "$APTDIR/cache" "$WORK/sysroot"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm main" > "$APTDIR/etc/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APTDIR/etc/sources.list" -o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
    -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::State::status=/dev/null" -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Cache::archives=$APTDIR/archives" -o "Acquire::Languages=none" -o "APT::Architecture=$ARCH"
    -o "APT::Architectures=$ARCH" -o "Debug::NoLocking=true" -o "APT::Sandbox::User=root")
  apt-get "${APT_OPTS[@]}" update -qq >/dev/null
  (cd "$APTDIR/archives" && apt-get "${APT_OPTS[@]}" download -qq "${TARGET_PKGS[@]}" >/dev/null)
  for deb in "$APTDIR"/archives/*.deb; do dpkg-deb -x "$deb" "$WORK/sysroot"; done
  rm -rf "$APTDIR/lists"
  # The repository's toolchain file with the private sysroot and prefix as further find roots (a path already inside
  # a root is not re-rooted, so the absolute paths below are used as they are); nothing is run under qemu here.
  cat > "$WORK/toolchain.cmake" <<TOOLCHAIN
include("$REPO/cmake/toolchains/linux-arm64.cmake")
list(APPEND CMAKE_FIND_ROOT_PATH "$WORK/sysroot" "$PREFIX")
unset(CMAKE_CROSSCOMPILING_EMULATOR)
TOOLCHAIN
  CROSS_ARGS=(-DCMAKE_TOOLCHAIN_FILE="$WORK/toolchain.cmake")
fi

log "flatbuffers $FB_VERSION into $PREFIX"
tar -xf "$FB_ORIG" -C "$WORK/src"
FB_SRC="$(find "$WORK/src" -maxdepth 1 -type d -name 'flatbuffers*' | head -1)"
cmake -S "$FB_SRC" -B "$WORK/build/flatbuffers" -G Ninja -Wno-dev "${CROSS_ARGS[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DFLATBUFFERS_BUILD_TESTS=OFF \
  -DFLATBUFFERS_BUILD_FLATC=OFF -DFLATBUFFERS_BUILD_FLATHASH=OFF -DFLATBUFFERS_BUILD_FLATLIB=ON >/dev/null
nice -n 19 cmake --build "$WORK/build/flatbuffers" -j "$JOBS" >/dev/null
cmake --install "$WORK/build/flatbuffers" >/dev/null

log "ruy (trixie) and fft2d (testing) static libraries into $PREFIX"
dpkg-deb -x "$RUY" "$PREFIX/deb"
dpkg-deb -x "$FFT2D" "$PREFIX/deb"
sed -i "s#\"/usr/#\"$PREFIX/deb/usr/#g" "$PREFIX/deb/usr/lib/$MULTIARCH/cmake/fft2d/fft2d-config.cmake"
mkdir -p "$PREFIX/cpuinfo"
cp "$DEPS"/lib/cmake/cpuinfo/*.cmake "$PREFIX/cpuinfo/"
sed -i "s#\${_IMPORT_PREFIX}/lib/$MULTIARCH/#$DEPS/lib/$MULTIARCH/#g; s#\${_IMPORT_PREFIX}/include#$DEPS/include#g" "$PREFIX"/cpuinfo/*.cmake
cat > "$PREFIX/isoc23_shim.c" <<'EOF'
/* trixie's ruy static libraries were compiled against glibc 2.38, whose headers map strtol to __isoc23_strtol.
   Debian 12's glibc 2.36 has only strtol; the difference (C23 binary literals) does not matter to ruy. Hidden, so the
   TFLite library does not export it. */
#include <stdlib.h>
__attribute__((visibility("hidden"))) long __isoc23_strtol(const char *s, char **end, int base) { return strtol(s, end, base); }
EOF
"${CROSS}gcc" -O2 -fPIC -c "$PREFIX/isoc23_shim.c" -o "$PREFIX/isoc23_shim.o"

XNNPACK_ARGS=(-DTFLITE_ENABLE_XNNPACK=OFF)
if [ "$XNNPACK" = on ]; then
  # cpuinfo, pthreadpool (static, PIC) and FXdiv's header into the private prefix; XNNPACK itself is built inside the
  # TFLite build (TF's OverridableFetchContent honours FETCHCONTENT_SOURCE_DIR_XNNPACK), told to take these as its
  # "system" libraries by path, so neither it nor TFLite downloads anything.
  log "cpuinfo, pthreadpool (static, PIC) and FXdiv for XNNPACK into $PREFIX"
  for tarball in "$CPUINFO_TAR" "$PTHREADPOOL_TAR" "$FXDIV_TAR"; do tar -xf "$tarball" -C "$WORK/src"; done
  mkdir -p "$WORK/src/xnnpack" "$PREFIX/include"
  tar -xf "$XNNPACK_TAR" -C "$WORK/src/xnnpack"
  FXDIV_SRC="$(find "$WORK/src" -maxdepth 1 -type d -name 'fxdiv-*' | head -1)"
  cp "$FXDIV_SRC/include/fxdiv.h" "$PREFIX/include/"
  cmake -S "$(find "$WORK/src" -maxdepth 1 -type d -name 'cpuinfo-*' | head -1)" -B "$WORK/build/cpuinfo" -G Ninja \
    -Wno-dev "${CROSS_ARGS[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCPUINFO_LIBRARY_TYPE=static -DCPUINFO_BUILD_TOOLS=OFF \
    -DCPUINFO_BUILD_UNIT_TESTS=OFF -DCPUINFO_BUILD_MOCK_TESTS=OFF -DCPUINFO_BUILD_BENCHMARKS=OFF \
    -DCPUINFO_BUILD_PKG_CONFIG=OFF >/dev/null
  nice -n 19 cmake --build "$WORK/build/cpuinfo" -j "$JOBS" >/dev/null
  cmake --install "$WORK/build/cpuinfo" >/dev/null
  cmake -S "$(find "$WORK/src" -maxdepth 1 -type d -name 'pthreadpool-*' | head -1)" -B "$WORK/build/pthreadpool" -G Ninja \
    -Wno-dev "${CROSS_ARGS[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DPTHREADPOOL_LIBRARY_TYPE=static -DPTHREADPOOL_BUILD_TESTS=OFF \
    -DPTHREADPOOL_BUILD_BENCHMARKS=OFF -DFXDIV_SOURCE_DIR="$FXDIV_SRC" >/dev/null
  nice -n 19 cmake --build "$WORK/build/pthreadpool" -j "$JOBS" >/dev/null
  cmake --install "$WORK/build/pthreadpool" >/dev/null
  XNNPACK_ARGS=(-DTFLITE_ENABLE_XNNPACK=ON -DFETCHCONTENT_SOURCE_DIR_XNNPACK="$WORK/src/xnnpack"
    -DXNNPACK_USE_SYSTEM_LIBS=ON -DXNNPACK_BUILD_ALL_MICROKERNELS=OFF -DXNNPACK_BUILD_TESTS=OFF
    -DXNNPACK_BUILD_BENCHMARKS=OFF -DXNNPACK_ENABLE_KLEIDIAI=OFF -DXNNPACK_ENABLE_ARM_SME=OFF
    -DXNNPACK_ENABLE_ARM_SME2=OFF -DXNNPACK_LIBRARY_TYPE=static
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_SKIP_BUILD_RPATH=ON
    -DCPUINFO_SOURCE_DIR="$PREFIX" -DPTHREADPOOL_SOURCE_DIR="$PREFIX" -DFXDIV_SOURCE_DIR="$PREFIX"
    -DCPUINFO_LIBRARY="$PREFIX/lib/libcpuinfo.a" -DPTHREADPOOL_LIBRARY="$PREFIX/lib/libpthreadpool.a"
    -DPTHREADPOOL_LIB="$PREFIX/lib/libpthreadpool.a")
fi

log "tensorflow $TF_VERSION-$TF_DEBIAN: unpack and apply Debian's patches"
tar -xf "$TF_ORIG" -C "$WORK/src"
TF_SRC="$(find "$WORK/src" -maxdepth 1 -type d -name 'tensorflow*' | head -1)"
tar -xf "$TF_DEB" -C "$TF_SRC"
while read -r patch; do
  [ -n "$patch" ] && [ "${patch#\#}" = "$patch" ] || continue
  patch -p1 -s -d "$TF_SRC" < "$TF_SRC/debian/patches/$patch"
done < "$TF_SRC/debian/patches/series"

# NEON_2_SSE (NEON intrinsics on SSE) is looked for on x86 only. Cross, farmhash and pthreadpool are found in the
# sysroot; TFLite links pthreadpool by name (-lpthreadpool), so the linker searches the sysroot's library folder, which
# also resolves abseil's libraries among themselves; no build RPATH, which would name that folder in the library.
ARCH_ARGS=(-DNEON_2_SSE_DIR=/usr/lib/cmake/NEON_2_SSE/)
LINK_FLAGS="$PREFIX/isoc23_shim.o -Wl,--as-needed"
CPUINFO_DIR="$PREFIX/cpuinfo"
if [ -n "$CROSS" ]; then
  ARCH_ARGS=(-DFARMHASH_ROOT_DIR="$DEPS" -DPTHREADPOOL_LIB="$DEPS/lib/$MULTIARCH/libpthreadpool.so" -DCMAKE_SKIP_BUILD_RPATH=ON)
  LINK_FLAGS="$LINK_FLAGS -L$DEPS/lib/$MULTIARCH -Wl,-rpath-link,$DEPS/lib/$MULTIARCH"
fi
if [ "$XNNPACK" = on ]; then
  # TFLite links pthreadpool by name: the prefix's folder comes first, so -lpthreadpool is the static one there; the
  # static libraries' symbols (cpuinfo, pthreadpool, XNNPACK, ruy, ...) are not exported from the library.
  CPUINFO_DIR="$PREFIX/share/cpuinfo"
  LINK_FLAGS="-L$PREFIX/lib $LINK_FLAGS -Wl,--exclude-libs,ALL"
fi

log "configure (Debian's switches from debian/rules, private prefix first)"
cmake -S "$TF_SRC/tensorflow/lite" -B "$WORK/build/tflite" -G Ninja -Wno-dev "${CROSS_ARGS[@]}" "${ARCH_ARGS[@]}" \
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DTFLITE_ENABLE_INSTALL=OFF -DTFLITE_ENABLE_GPU=OFF \
  -DTFLITE_ENABLE_NNAPI=OFF -DTFLITE_ENABLE_RESOURCE=ON -DTFLITE_ENABLE_RUY=ON "${XNNPACK_ARGS[@]}" \
  -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON -DSYSTEM_FARMHASH=ON -DSYSTEM_PTHREADPOOL=ON \
  -DFETCHCONTENT_FULLY_DISCONNECTED=ON \
  -DCMAKE_PREFIX_PATH="$PREFIX;$PREFIX/deb/usr" \
  -Dabsl_DIR="$DEPS/lib/$MULTIARCH/cmake/absl/" \
  -Dcpuinfo_DIR="$CPUINFO_DIR" \
  -DEigen3_DIR="$DEPS/share/eigen3/cmake/" \
  -Dfft2d_DIR="$PREFIX/deb/usr/lib/$MULTIARCH/cmake/fft2d/" \
  -Druy_DIR="$PREFIX/deb/usr/lib/$MULTIARCH/cmake/ruy/" \
  -DGEMMLOWP_SOURCE_DIR="$DEPS/include/gemmlowp" \
  -DCMAKE_SHARED_LINKER_FLAGS="$LINK_FLAGS" >/dev/null
log "compile ($JOBS jobs, nice 19): about 11 minutes on 2 idle cores"
nice -n 19 cmake --build "$WORK/build/tflite" -j "$JOBS" --target tensorflow-lite

LIB="$(find "$WORK/build/tflite" -maxdepth 1 -name 'libtensorflow-lite.so.*' -type f | head -1)"
[ -n "$LIB" ] || { log "no libtensorflow-lite.so.* produced"; exit 1; }
mkdir -p "$OUTDIR"
cp "$LIB" "$OUTDIR/libtensorflowlite_c.so.tmp"
"${CROSS}strip" --strip-unneeded "$OUTDIR/libtensorflowlite_c.so.tmp"
mv "$OUTDIR/libtensorflowlite_c.so.tmp" "$OUTDIR/libtensorflowlite_c.so"
GLIBC_MAX="$("${CROSS}objdump" -T "$OUTDIR/libtensorflowlite_c.so" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -1)"
{
  echo "key=$KEY"
  echo "source=tensorflow $TF_VERSION-$TF_DEBIAN (Debian), flatbuffers $FB_VERSION, $(basename "$RUY"), $(basename "$FFT2D")"
  echo "xnnpack=$XNNPACK$([ "$XNNPACK" = on ] && echo " ($(basename "$XNNPACK_TAR"), $(basename "$CPUINFO_TAR"), $(basename "$PTHREADPOOL_TAR"), static)")"
  echo "glibc-max=$GLIBC_MAX"
  echo "needed=$("${CROSS}objdump" -p "$OUTDIR/libtensorflowlite_c.so" | awk '/NEEDED/{printf "%s ", $2}')"
} > "$OUTDIR/BUILD-INFO"
log "built $OUTDIR/libtensorflowlite_c.so (needs at most $GLIBC_MAX)"
echo "$OUTDIR/libtensorflowlite_c.so"
exit 0
}
