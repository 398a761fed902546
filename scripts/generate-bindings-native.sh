#!/usr/bin/env bash
# Regenerates the P/Invoke bindings of AccelSdk's own native shims from their C headers in native/ with
# tools/AccelSdk.BindingGen: src/AccelSdk.Native/Interop/ProbeNative.g.cs from accelsdk_probe.h and
# src/AccelSdk.Native/Interop/OrtOpsNative.g.cs from accelsdk_ort_ops.h.
# Usage: scripts/generate-bindings-native.sh [--check]   (--check: exit 1 when a committed file differs)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/setup-native.sh"
CLANG_BUILTINS="$(ls -d /usr/lib/llvm-14/lib/clang/*/include | head -1)"
dotnet build "$REPO/tools/AccelSdk.BindingGen/AccelSdk.BindingGen.csproj" -nologo -v q -c Release -o "$REPO/.cache/bindinggen" >/dev/null
abi_version() { sed -n "s/^#define $1 \([0-9]*\)$/\1/p" "$2"; }
PROBE_H="$REPO/native/device_probe/include/accelsdk_probe.h"
ORT_OPS_H="$REPO/native/ort_custom_ops/include/accelsdk_ort_ops.h"
status=0
dotnet "$REPO/.cache/bindinggen/AccelSdk.BindingGen.dll" \
  --header accelsdk_probe.h \
  -I "$REPO/native/device_probe/include" --clang-arg -isystem --clang-arg "$CLANG_BUILTINS" \
  --library accelsdk_probe \
  --namespace AccelSdk.Native.Interop --class ProbeNative \
  --input-version "ACCELSDK_PROBE_ABI_VERSION $(abi_version ACCELSDK_PROBE_ABI_VERSION "$PROBE_H")" \
  --output "$REPO/src/AccelSdk.Native/Interop/ProbeNative.g.cs" "$@" || status=$?
dotnet "$REPO/.cache/bindinggen/AccelSdk.BindingGen.dll" \
  --header accelsdk_ort_ops.h \
  -I "$REPO/native/ort_custom_ops/include" --clang-arg -isystem --clang-arg "$CLANG_BUILTINS" \
  --library accelsdk_ort_ops \
  --namespace AccelSdk.Native.Interop --class OrtOpsNative \
  --input-version "ACCELSDK_ORT_OPS_ABI_VERSION $(abi_version ACCELSDK_ORT_OPS_ABI_VERSION "$ORT_OPS_H")" \
  --output "$REPO/src/AccelSdk.Native/Interop/OrtOpsNative.g.cs" "$@" || status=$?
exit $status
