#!/usr/bin/env bash
# One-shot GPU check of the ILGPU backend on a machine with an NVIDIA GPU (never run by CI):
#   1. lists the ILGPU devices (ilgpu-cuda:0 must be available),
#   2. runs the ONNX node conformance subset (every claimed node test) and the ResNet18-vs-ORT test on ilgpu-cuda:0,
#   3. prints MatMul 256/512/1024 and ResNet18-conv GFLOP/s for ilgpu-cuda:0 and ilgpu-cpu next to ORT's CPU EP and,
#      when the GPU build of ONNX Runtime and its CUDA libraries load, ORT's CUDA EP (cuBLAS).
# Usage: tests/gpu/run-ilgpu-cuda.sh            (builds first; needs the NuGet packages restored or reachable)
#        SKIP_BUILD=1 tests/gpu/run-ilgpu-cuda.sh  (uses the existing Release outputs, e.g. built on another machine)
# Output goes to stdout and to $OUT (or ./artifacts/gpu) as text files.
set -uo pipefail
cd "$(dirname "$0")/../.."
out="${OUT:-artifacts/gpu}"
mkdir -p "$out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$out/gpu.txt" || echo "nvidia-smi not found" | tee "$out/gpu.txt"

tests=tests/AccelSdk.Ilgpu.Tests/AccelSdk.Ilgpu.Tests.csproj
bench=bench/AccelSdk.Ilgpu.Benchmarks/AccelSdk.Ilgpu.Benchmarks.csproj
if [ "${SKIP_BUILD:-0}" != "1" ]; then
  bash scripts/setup-ilgpu.sh || echo "setup-ilgpu.sh failed (no apt?): conformance data must already be present"
  dotnet build -c Release "$tests" -v q -nologo 2>&1 | tail -3 | tee "$out/build.txt"
  # The bench gets ONNX Runtime's GPU build so that ORT's CUDA EP runs next to ILGPU's CUDA kernels.
  dotnet build -c Release "$bench" -p:AccelSdkOrtFlavour=Gpu -v q -nologo 2>&1 | tail -3 | tee -a "$out/build.txt"
fi

echo "== devices" | tee "$out/devices.txt"
ACCELSDK_ILGPU_TEST_DEVICE=ilgpu-cuda:0 timeout 300 dotnet test "$tests" -c Release --no-build \
  --filter "FullyQualifiedName~DeviceTests.EveryUnavailableDeviceSaysWhy" --logger "console;verbosity=detailed" 2>&1 \
  | grep -E "^ +ilgpu-" | tee -a "$out/devices.txt"

echo "== conformance + ResNet18 on ilgpu-cuda:0" | tee "$out/conformance.txt"
ACCELSDK_ILGPU_TEST_DEVICE=ilgpu-cuda:0 timeout 600 dotnet test "$tests" -c Release --no-build \
  --filter "FullyQualifiedName~ConformanceTests|FullyQualifiedName~ModelTests" --logger "console;verbosity=normal" 2>&1 \
  | grep -E "Failed |Error Message|^ +[A-Za-z].*(ResNet18|output )|Passed!|Failed!|Total tests" -A1 | tee -a "$out/conformance.txt"

echo "== MatMul / conv GFLOP/s" | tee "$out/bench.txt"
timeout 900 dotnet bench/AccelSdk.Ilgpu.Benchmarks/bin/Release/net10.0/AccelSdk.Ilgpu.Benchmarks.dll \
  --gflops --convs --ort-cuda --runs 9 2>&1 | tee -a "$out/bench.txt"
