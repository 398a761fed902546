#!/usr/bin/env bash
# Installs what the ILGPU backend's tests need on a fresh Debian 12 machine (idempotent, quiet):
#   libonnx-testdata      ONNX backend node tests under /usr/share/libonnx-testdata/data (conformance tests)
#   ocl-icd-opencl-dev    libOpenCL.so, which ILGPU looks for (without it the opt-in OpenCL path finds nothing)
#   pocl-opencl-icd       a real OpenCL runtime on the CPU; ILGPU 1.5.3 refuses its device (tested: reported with
#                         ILGPU's reason), and ACCELSDK_ILGPU_OPENCL=pocl-compat makes it ilgpu-opencl:0 (tested:
#                         PoclCompatibilityTests runs the claimed ONNX suite, ResNet18 and BlazeFace on it)
# The ResNet18 reference model comes from NuGet (PackageDownload in tests/AccelSdk.Ilgpu.Tests); the test checks its sha256.
set -euo pipefail
packages=(libonnx-testdata ocl-icd-opencl-dev pocl-opencl-icd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
test -f /usr/share/libonnx-testdata/data/node/test_relu/model.onnx || { echo "setup-ilgpu: ONNX test data missing after install" >&2; exit 1; }
test -f /etc/OpenCL/vendors/pocl.icd || { echo "setup-ilgpu: PoCL ICD (/etc/OpenCL/vendors/pocl.icd) missing after install" >&2; exit 1; }
