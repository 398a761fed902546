#!/usr/bin/env bash
# Builds the CLI with the GPU flavour of ONNX Runtime (Microsoft.ML.OnnxRuntime.Gpu.Linux) and checks that it
# lists the CUDA execution provider, and that on a machine without a working CUDA the provider is reported
# unavailable with ONNX Runtime's reason while models still run on the CPU.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/artifacts/gpu-cli"
dotnet build "$root/src/AccelSdk.Cli/AccelSdk.Cli.csproj" -c Release -p:AccelSdkOrtFlavour=Gpu -o "$out" --nologo -clp:ErrorsOnly >/dev/null
devices=$("$out/AccelSdk.Cli" devices --json 2>/dev/null)
# An available CUDA device is ort-cuda:N (one per GPU ORT discovers); an unavailable provider is listed once as ort-cuda.
grep -Eq '"id": "ort-cuda(:[0-9]+)?"' <<<"$devices" || { echo "gpu flavour: no ort-cuda device listed" >&2; exit 1; }
grep -q '"id": "ort-cpu"' <<<"$devices" || { echo "gpu flavour: ort-cpu not listed" >&2; exit 1; }
model=/usr/share/libonnx-testdata/data/node/test_relu/model.onnx
run=$("$out/AccelSdk.Cli" run "$model" 2>/tmp/accelsdk-gpu-flavour.err)
if command -v nvidia-smi >/dev/null && nvidia-smi >/dev/null 2>&1; then
  echo "gpu flavour: GPU present; ran on: $(head -1 <<<"$run")"
else
  grep -q 'failed to start' <<<"$devices" || { echo "gpu flavour: CUDA listed as available on a machine without a GPU" >&2; exit 1; }
  grep -q 'on ort-cpu' <<<"$run" || { echo "gpu flavour: did not fall back to the CPU: $run" >&2; exit 1; }
  grep -q 'falling back to the CPU' /tmp/accelsdk-gpu-flavour.err || { echo "gpu flavour: no fallback warning" >&2; exit 1; }
  echo "gpu flavour: builds; CUDA reported unavailable with ORT's reason; model ran on ort-cpu with a warning"
fi
