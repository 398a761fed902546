#!/usr/bin/env bash
# Regenerates the P/Invoke bindings of AccelSdk's own native shims from their C headers in native/ with
# tools/AccelSdk.BindingGen: src/AccelSdk.Native/Interop/ProbeNative.g.cs from accelsdk_probe.h.
# Usage: scripts/generate-bindings-native.sh [--check]   (--check: exit 1 when a committed file differs)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/setup-native.sh"
CLANG_BUILTINS="$(ls -d /usr/lib/llvm-14/lib/clang/*/include | head -1)"
dotnet build "$REPO/tools/AccelSdk.BindingGen/AccelSdk.BindingGen.csproj" -nologo -v q -c Release -o "$REPO/.cache/bindinggen" >/dev/null
dotnet "$REPO/.cache/bindinggen/AccelSdk.BindingGen.dll" \
  --header accelsdk_probe.h \
  -I "$REPO/native/device_probe/include" --clang-arg -isystem --clang-arg "$CLANG_BUILTINS" \
  --library accelsdk_probe \
  --namespace AccelSdk.Native.Interop --class ProbeNative \
  --input-version "ACCELSDK_PROBE_ABI_VERSION $(sed -n 's/^#define ACCELSDK_PROBE_ABI_VERSION \([0-9]*\)$/\1/p' "$REPO/native/device_probe/include/accelsdk_probe.h")" \
  --output "$REPO/src/AccelSdk.Native/Interop/ProbeNative.g.cs" "$@"
