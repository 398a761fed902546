#!/usr/bin/env bash
# Regenerates the TFLite C API bindings (src/AccelSdk.TfLite/Native/TfLiteNative.g.cs) from the headers of Debian
# forky's libtensorflow-lite-dev, which scripts/setup-tflite.sh unpacks into .tflite-runtime/root (never vendored), and
# the XNNPACK delegate's (src/AccelSdk.TfLite/Native/TfLiteXnnPackNative.g.cs) from
# tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h of the TensorFlow source tarball scripts/build-tflite.sh builds
# (Debian's -dev package lacks that header: Debian builds TFLite without XNNPACK).
# Usage: scripts/generate-bindings.sh [--check]   (--check: exit 1 when the committed file differs)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO/scripts/setup-tflite.sh" >/dev/null
ROOT="${ACCELSDK_TFLITE_RUNTIME_DIR:-$REPO/.tflite-runtime}"
INCLUDE="$ROOT/root/usr/include"
VERSION="libtensorflow-lite-dev $(cat "$ROOT/tflite-version")"
CLANG_BUILTINS="$(ls -d /usr/lib/llvm-14/lib/clang/*/include | head -1)"
status=0
dotnet build "$REPO/tools/AccelSdk.BindingGen/AccelSdk.BindingGen.csproj" -nologo -v q -c Release -o "$REPO/.cache/bindinggen" >/dev/null
dotnet "$REPO/.cache/bindinggen/AccelSdk.BindingGen.dll" \
  --header tensorflow/lite/c/c_api.h \
  --header tensorflow/lite/c/c_api_types.h \
  --header tensorflow/lite/c/c_api_experimental.h \
  --header tensorflow/lite/c/c_api_opaque.h \
  --header tensorflow/lite/profiling/telemetry/c/profiler.h \
  -I "$INCLUDE" --clang-arg -isystem --clang-arg "$CLANG_BUILTINS" \
  --scope tensorflow/lite/ \
  --library tensorflowlite_c \
  --namespace AccelSdk.TfLite.Native --class TfLiteNative \
  --input-version "$VERSION" \
  --output "$REPO/src/AccelSdk.TfLite/Native/TfLiteNative.g.cs" "$@" || status=$?
TF_SOURCE="$(bash "$REPO/scripts/build-tflite.sh" --tf-source)"
XNNPACK_INCLUDE="$(mktemp -d)"
trap 'rm -rf "$XNNPACK_INCLUDE"' EXIT
tar -xJf "$TF_SOURCE" -C "$XNNPACK_INCLUDE" --strip-components=1 tensorflow-2.14.1/tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h
dotnet "$REPO/.cache/bindinggen/AccelSdk.BindingGen.dll" \
  --header tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h \
  -I "$XNNPACK_INCLUDE" -I "$INCLUDE" --clang-arg -isystem --clang-arg "$CLANG_BUILTINS" \
  --scope tensorflow/lite/delegates/xnnpack/ \
  --library tensorflowlite_c \
  --namespace AccelSdk.TfLite.Native --class TfLiteXnnPackNative \
  --input-version "$(basename "${TF_SOURCE//%2b/+}") (Debian's TensorFlow source, as built by scripts/build-tflite.sh)" \
  --output "$REPO/src/AccelSdk.TfLite/Native/TfLiteXnnPackNative.g.cs" "$@" || status=$?
exit $status
