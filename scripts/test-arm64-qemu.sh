#!/usr/bin/env bash
# linux-arm64 under qemu-user: the CLI published self-contained for linux-arm64 (ORT's arm64 natives from its NuGet
# package, the arm64 shims of the CrossBuild target, the arm64 TFLite library of the TfLiteNative target) runs
# `devices`, then `run` of ResNet18 and BlazeFace on ort-cpu, BlazeFace on ILGPU's CPU accelerator and MediaPipe's
# short-range face detector (.tflite) on tflite-cpu, with TFLite's builtin kernels and (when the arm64 library was built
# with it, BUILD-INFO xnnpack=on) with the XNNPACK delegate (`run --variant xnnpack`, against x64's XNNPACK run, so the x64
# library must have it too); each output must equal the same command's x64 output (same
# fixed-seed inputs) within 1e-4 relative, plus an absolute 1e-5 or 1e-6 of the output's largest magnitude, whichever
# is larger (the x64 TFLite built with XNNPACK, and a newer cpuinfo linked in, gives outputs that differ from the earlier
# x64 build by up to 0.5% relative even with the builtin kernels; against arm64, two of the face detector's 14336 box
# values near zero then differed by 1.3e-5 and 1.7e-5 in an output reaching 152). Prints "qemu: N passed, M failed" last (the line the Test
# target counts). Without artifacts/tflite/linux-arm64 (built by scripts/build-tflite.sh linux-arm64) the TFLite
# checks are left out with a warning. With XNNPACK, scripts/arm64-cpuinfo-report.c is cross-compiled against the static
# cpuinfo that build linked in and run the same way: it prints the arm64 features cpuinfo (and so XNNPACK's choice of
# micro-kernels) sees under qemu, and cpuinfo must initialize there (XNNPACK does not start without it).
# Usage: test-arm64-qemu.sh [X64_CLI_DLL]  (default: the Release build output of src/AccelSdk.Cli).
# Needs: qemu-user, libc6-arm64-cross + libstdc++6-arm64-cross (installed when missing), the CrossBuild target's shims,
# and root (unshare -m). Two things qemu-user 7.2 (Debian 12) lacks are supplied here:
#  - an arm64 /proc/cpuinfo: qemu shows the x86 host's, on which the cpuinfo library inside ONNX Runtime dereferences
#    NULL (SIGSEGV at session creation). A Neoverse-N1-like file is bind-mounted over it in a private mount namespace;
#  - arm64 libssl3 and libicu72 (the cross sysroot has neither; .NET needs them) and the Debian 12 libraries the
#    TFLite library links (abseil, cpuinfo, farmhash, pthreadpool), from Debian 12's arm64 packages fetched with a
#    private apt configuration into artifacts/arm64/extra.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/artifacts/arm64"
CLI_ARM64="$OUT/cli/AccelSdk.Cli"
CLI_X64="${1:-$REPO/src/AccelSdk.Cli/bin/Release/net10.0/AccelSdk.Cli.dll}"
SYSROOT=/usr/aarch64-linux-gnu
passed=0; failed=0
check() { if [ "$1" -eq 0 ]; then echo "ok   $2"; passed=$((passed + 1)); else echo "FAIL $2"; failed=$((failed + 1)); fi; }

missing=()
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || missing+=(libc6-arm64-cross)
[ -e "$SYSROOT/lib/libstdc++.so.6" ] || missing+=(libstdc++6-arm64-cross)
if [ ${#missing[@]} -gt 0 ]; then
  echo "arm64-qemu: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || exit 1
fi
[ -e "$REPO/artifacts/native/runtimes/linux-arm64/native/libaccelsdk_probe.so" ] || { echo "arm64-qemu: run the CrossBuild target first" >&2; exit 1; }
[ -f "$CLI_X64" ] || { echo "arm64-qemu: $CLI_X64 missing (build src/AccelSdk.Cli -c Release)" >&2; exit 1; }

TFLITE_ARM64="$REPO/artifacts/tflite/linux-arm64/libtensorflowlite_c.so"
TFLITE_MODEL="$REPO/.models/tflite/face_detection_short_range.tflite"
with_tflite=0 with_xnnpack=0
if [ -f "$TFLITE_ARM64" ] && [ -f "$TFLITE_MODEL" ]; then with_tflite=1
else echo "arm64-qemu: WARNING: no $TFLITE_ARM64 or $TFLITE_MODEL: the tflite-cpu checks are left out" >&2; fi
if [ "$with_tflite" -eq 1 ] && grep -qx 'xnnpack=on.*' "$(dirname "$TFLITE_ARM64")/BUILD-INFO" 2>/dev/null; then with_xnnpack=1
elif [ "$with_tflite" -eq 1 ]; then echo "arm64-qemu: WARNING: $TFLITE_ARM64 was built without XNNPACK: the xnnpack checks are left out" >&2; fi

EXTRA="$OUT/extra"
EXTRA_LIBS=(libssl.so.3 libicuuc.so.72 libabsl_base.so.20220623 libcpuinfo.so.0 libfarmhash.so.0 libpthreadpool.so.0)
have_extra=1
for lib in "${EXTRA_LIBS[@]}"; do [ -e "$EXTRA/usr/lib/aarch64-linux-gnu/$lib" ] || have_extra=0; done
if [ "$have_extra" -eq 0 ]; then
  APTDIR="$OUT/apt"
  mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/etc/sources.list.d" "$APTDIR/cache" "$EXTRA"
  MIRROR="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${MIRROR:-http://deb.debian.org/debian} bookworm main" > "$APTDIR/etc/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APTDIR/etc/sources.list" -o "Dir::Etc::SourceParts=$APTDIR/etc/sources.list.d"
    -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::State::status=/dev/null" -o "Dir::Cache=$APTDIR/cache"
    -o "Dir::Cache::archives=$APTDIR/archives" -o "Acquire::Languages=none" -o "APT::Architecture=arm64"
    -o "APT::Architectures=arm64" -o "Debug::NoLocking=true" -o "APT::Sandbox::User=root")
  apt-get "${APT_OPTS[@]}" update -qq >/dev/null && (cd "$APTDIR/archives" && apt-get "${APT_OPTS[@]}" download -qq libssl3 libicu72 libabsl20220623 libcpuinfo0 libfarmhash0 libpthreadpool0 >/dev/null) \
    || { echo "arm64-qemu: cannot fetch arm64 libssl3/libicu72/libabsl20220623/libcpuinfo0/libfarmhash0/libpthreadpool0" >&2; exit 1; }
  for deb in "$APTDIR"/archives/*.deb; do dpkg-deb -x "$deb" "$EXTRA"; done
  rm -rf "$APTDIR/lists"
fi
CPUINFO="$OUT/cpuinfo.arm64"
for i in 0 1; do
  printf 'processor\t: %d\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp\nCPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n' $i
done > "$CPUINFO"

start=$SECONDS
dotnet publish "$REPO/src/AccelSdk.Cli" -c Release -r linux-arm64 --self-contained -o "$OUT/cli" -nologo -v quiet \
  -p:AccelSdkBuildNative=false >"$OUT/publish.log" 2>&1 || { cat "$OUT/publish.log"; echo "arm64-qemu: publish failed" >&2; exit 1; }
echo "arm64-qemu: published in $((SECONDS - start)) s"

# .NET under qemu-user: W^X double mapping off (it costs a mapping per method).
arm64() {
  QEMU_LD_PREFIX="$SYSROOT" DOTNET_EnableWriteXorExecute=0 ACCELSDK_CACHE_DIR="$OUT/cache" timeout 900 unshare -m sh -c \
    'lib=$1 cli=$2; shift 2; mount --bind "$0" /proc/cpuinfo && exec qemu-aarch64 -E LD_LIBRARY_PATH="$lib" "$cli" "$@"' \
    "$CPUINFO" "$EXTRA/usr/lib/aarch64-linux-gnu" "$CLI_ARM64" "$@"
}
arm64_exe() {
  QEMU_LD_PREFIX="$SYSROOT" timeout 120 unshare -m sh -c 'mount --bind "$0" /proc/cpuinfo && exec qemu-aarch64 "$@"' "$CPUINFO" "$@"
}
x64() { ACCELSDK_CACHE_DIR="$OUT/cache-x64" timeout 900 dotnet "$CLI_X64" "$@"; }

step=$SECONDS
arm64 devices > "$OUT/devices.txt" 2>&1; rc=$?
cat "$OUT/devices.txt"
grep -q "Arm64" "$OUT/devices.txt" && grep -Eq "^ort-cpu +cpu +yes" "$OUT/devices.txt" && grep -Eq "^ilgpu-cpu +cpu +yes" "$OUT/devices.txt"
check $((rc | $?)) "devices under qemu-aarch64 lists ort-cpu and ilgpu-cpu available on Arm64 ($((SECONDS - step)) s)"
if [ "$with_tflite" -eq 1 ]; then
  [ -f "$OUT/cli/runtimes/linux-arm64/native/libtensorflowlite_c.so" ] && grep -Eq "^tflite-cpu +cpu +yes" "$OUT/devices.txt"
  check $? "the arm64 publish carries the arm64 TFLite library and devices lists tflite-cpu available under qemu-aarch64"
fi
if [ "$with_xnnpack" -eq 1 ]; then
  PREFIX_ARM64="${ACCELSDK_TFLITE_BUILD_DIR:-$REPO/artifacts/tflite-build}/linux-arm64/prefix"
  if [ -f "$PREFIX_ARM64/lib/libcpuinfo.a" ]; then
    aarch64-linux-gnu-gcc -O1 -std=c11 -I"$PREFIX_ARM64/include" "$REPO/scripts/arm64-cpuinfo-report.c" "$PREFIX_ARM64/lib/libcpuinfo.a" \
      -lpthread -o "$OUT/cpuinfo-report" && arm64_exe "$OUT/cpuinfo-report" > "$OUT/cpuinfo-report.txt" 2>&1
    rc=$?
    cat "$OUT/cpuinfo-report.txt"
    check $rc "cpuinfo (as linked into the arm64 TFLite for XNNPACK) initializes under qemu-aarch64"
  else
    echo "arm64-qemu: no $PREFIX_ARM64/lib/libcpuinfo.a (the arm64 TFLite build's prefix): cpuinfo report left out" >&2
  fi
fi

run_case() { # NAME MODEL DEVICE [RUN OPTIONS...]
  local name=$1 model=$2 device=$3 dir="$OUT/runs/$1"
  shift 3
  rm -rf "$dir"; mkdir -p "$dir"
  step=$SECONDS
  x64 run "$model" --backend "$device" "$@" --output-dir "$dir/x64" > "$dir/x64.txt" 2>&1 || { cat "$dir/x64.txt"; check 1 "$name: x64 run"; return; }
  arm64 run "$model" --backend "$device" "$@" --output-dir "$dir/arm64" > "$dir/arm64.txt" 2>&1 || { cat "$dir/arm64.txt"; check 1 "$name: arm64 run under qemu"; return; }
  python3 "$REPO/scripts/compare-tensors.py" "$dir/x64" "$dir/arm64" 1e-4 1e-5 1e-6
  check $? "$name on $device${*:+ ($*)}: arm64 under qemu equals x64 within 1e-4 relative ($((SECONDS - step)) s)"
}
run_case resnet18-ort "$REPO/.models/resnet18/ResNet18.onnx" ort-cpu
run_case blazeface-ort "$REPO/.models/blazeface/face_detection_front_128x128_barracuda.onnx" ort-cpu
run_case blazeface-ilgpu "$REPO/.models/blazeface/face_detection_front_128x128_barracuda.onnx" ilgpu-cpu
[ "$with_tflite" -eq 1 ] && run_case face-short-range-tflite "$TFLITE_MODEL" tflite-cpu
[ "$with_xnnpack" -eq 1 ] && run_case face-short-range-tflite-xnnpack "$TFLITE_MODEL" tflite-cpu --variant xnnpack

echo "arm64-qemu: total $((SECONDS - start)) s"
echo "qemu: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
