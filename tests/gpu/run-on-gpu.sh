#!/usr/bin/env bash
# The ONE command the device tool runs on the GPU machine for issue 14 (call: tests/gpu/README.md). Needs what
# tests/gpu/prepare.sh packed into artifacts/gpu-check/carry (named in the call's carry); needs no .NET there.
#   1. nvidia-smi must list an NVIDIA GPU, else it says "no NVIDIA GPU found" and exits 3;
#   2. unpacks the self-contained check runner and the claimed ONNX node tests into a temporary folder;
#   3. tests/gpu/torch_anchors.py exports ResNet18 (torchvision, seeded) and measures PyTorch's cuBLAS fp32 matmul and
#      ResNet18 forward pass on the GPU (skipped, with a note, where python3 has no torch);
#   4. the runner: devices, agreement, conformance, matmul, latency, autotune, throughput, direct-paths on ilgpu-cuda:0;
#   5. leaves in $OUT: summary.md, results.json, run.log, results.tar.gz (every file the stages wrote) and the
#      autotune report.html files.
# Each step runs under a timeout and the runner starts no new stage after its budget, so the script ends within about
# 7.5 minutes at worst (typically 3-5) inside a 10-minute device call.
# CPU rehearsal (no GPU needed): tests/gpu/run-on-gpu.sh --cpu-rehearsal runs the same pipeline with ilgpu-cpu as the
# device under test and small MatMul sizes; ResNet18 then comes from .models/ when torch is missing.
# Environment: OUT (default artifacts/gpu-check/out), ACCELSDK_GPU_CHECK_DEVICE (default ilgpu-cuda:0, ilgpu-cpu in a
# rehearsal), ACCELSDK_GPU_CHECK_CARRY, ACCELSDK_GPU_CHECK_SIZES, ACCELSDK_GPU_CHECK_RUNS, ACCELSDK_GPU_CHECK_ITEMS
# (RunMany stream length), ACCELSDK_GPU_CHECK_STAGES,
# ACCELSDK_GPU_CHECK_BUDGET_S, ACCELSDK_GPU_CHECK_RESNET18 (a ResNet18.onnx to use when torch cannot export one),
# ACCELSDK_GPU_CHECK_NVIDIA_SMI (the nvidia-smi to ask; tests name a missing one), ACCELSDK_GPU_CHECK_PYTHON (the
# python3 with torch and torchvision; default python3).
# Exit codes: 0 every check passed; 1 a check failed (summary.md names it); 2 usage; 3 no NVIDIA GPU found;
# 4 the carried files are missing; 124 the runner ran past its timeout (summary.md holds the stages it finished).
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

rehearsal=0
case "${1:-}" in
  "") ;;
  --cpu-rehearsal) rehearsal=1 ;;
  *) echo "usage: tests/gpu/run-on-gpu.sh [--cpu-rehearsal]" >&2; exit 2 ;;
esac
if [ $rehearsal = 1 ]; then
  device=${ACCELSDK_GPU_CHECK_DEVICE:-ilgpu-cpu}
  sizes=${ACCELSDK_GPU_CHECK_SIZES:-128,256}
  runs=${ACCELSDK_GPU_CHECK_RUNS:-5}
  items=${ACCELSDK_GPU_CHECK_ITEMS:-4}
  budget=${ACCELSDK_GPU_CHECK_BUDGET_S:-0}
  runner_timeout=3600
else
  device=${ACCELSDK_GPU_CHECK_DEVICE:-ilgpu-cuda:0}
  sizes=${ACCELSDK_GPU_CHECK_SIZES:-1024,2048,4096}
  runs=${ACCELSDK_GPU_CHECK_RUNS:-9}
  items=${ACCELSDK_GPU_CHECK_ITEMS:-32}
  budget=${ACCELSDK_GPU_CHECK_BUDGET_S:-200}
  runner_timeout=280
fi
smi=${ACCELSDK_GPU_CHECK_NVIDIA_SMI:-nvidia-smi}
python=${ACCELSDK_GPU_CHECK_PYTHON:-python3}
stages=${ACCELSDK_GPU_CHECK_STAGES:-devices,agreement,conformance,matmul,latency,autotune,throughput,direct-paths}
carry=${ACCELSDK_GPU_CHECK_CARRY:-$root/artifacts/gpu-check/carry}
out=${OUT:-$root/artifacts/gpu-check/out}
mkdir -p "$out"
work=$(mktemp -d /tmp/accelsdk-gpu-check.XXXXXX)
results=$work/results
mkdir -p "$results"
exec > >(tee -a "$out/run.log") 2>&1
export PYTHONUNBUFFERED=1
started=$(date +%s)
say() { echo "[run-on-gpu $(( $(date +%s) - started ))s] $*"; }

# What comes back from the device tool: at most 8 files, no deeper than 2 folders; the rest travels as one archive.
finish() {
  local code=$?
  [ -f "$results/summary.md" ] && cp "$results/summary.md" "$out/summary.md"
  [ -f "$results/results.json" ] && cp "$results/results.json" "$out/results.json"
  for html in "$results"/autotune-*/report.html; do
    [ -f "$html" ] && cp "$html" "$out/$(basename "$(dirname "$html")")-report.html"
  done
  tar -C "$work" -czf "$out/results.tar.gz" results 2> /dev/null
  say "exit $code; in $out: $(ls "$out" | tr '\n' ' ')"
  rm -rf "$work"
}
trap finish EXIT
fail() {
  local code=$1
  shift
  say "$*"
  printf '# AccelSdk GPU check (issue 14)\n\n%s\n' "$*" > "$results/summary.md"
  exit "$code"
}

say "device under test $device; $(nproc) CPUs; $(uname -srm)"
if [ $rehearsal = 0 ]; then
  if ! command -v "$smi" > /dev/null; then
    fail 3 "no NVIDIA GPU found: $smi is not installed on this machine"
  fi
  if ! "$smi" -L > "$results/nvidia-smi-L.txt" 2>&1 || ! grep -q '^GPU [0-9]' "$results/nvidia-smi-L.txt"; then
    fail 3 "no NVIDIA GPU found: $smi -L says: $(head -c 300 "$results/nvidia-smi-L.txt")"
  fi
  "$smi" > "$results/nvidia-smi.txt" 2>&1
  "$smi" --query-gpu=name,memory.total,compute_cap,driver_version --format=csv,noheader,nounits > "$results/nvidia-smi.csv" 2>&1
  say "GPU: $(head -1 "$results/nvidia-smi.csv")"
else
  say "CPU rehearsal: no GPU check; device $device, MatMul sizes $sizes"
fi

for f in gpu-check-linux-x64.tar.xz onnx-node-claimed.tar.xz face_detection_front_128x128_barracuda.onnx face_detection_back_256x256_barracuda.onnx; do
  [ -f "$carry/$f" ] || fail 4 "$carry/$f is missing: run tests/gpu/prepare.sh where .NET is, and name artifacts/gpu-check/carry in the call's carry"
done
tar -C "$work" -xJf "$carry/gpu-check-linux-x64.tar.xz" || fail 4 "cannot unpack $carry/gpu-check-linux-x64.tar.xz"
mkdir -p "$work/onnx"
tar -C "$work/onnx" -xJf "$carry/onnx-node-claimed.tar.xz" || fail 4 "cannot unpack $carry/onnx-node-claimed.tar.xz"
say "unpacked: runner $(du -sh "$work/publish" | cut -f1), $(ls "$work/onnx/node" | wc -l) node tests"

resnet18=""
if "$python" -c 'import torch, torchvision' > /dev/null 2>&1; then
  say "PyTorch anchors and the ResNet18 export..."
  timeout 150 "$python" tests/gpu/torch_anchors.py --resnet18 "$work/ResNet18.onnx" --json "$results/torch-anchors.json" --sizes "$sizes"
  say "torch_anchors.py exit $?"
  [ -f "$work/ResNet18.onnx" ] && resnet18=$work/ResNet18.onnx
else
  say "$python has no torch/torchvision here: PyTorch anchors skipped, ResNet18 not exported"
fi
if [ -z "$resnet18" ]; then
  for candidate in "${ACCELSDK_GPU_CHECK_RESNET18:-}" "$root/.models/resnet18/ResNet18.onnx"; do
    if [ -n "$candidate" ] && [ -f "$candidate" ]; then resnet18=$candidate; break; fi
  done
  say "ResNet18: ${resnet18:-none: the ResNet18 rows are missing}"
fi

# The runner runs without any .NET on PATH or DOTNET_ROOT: the publish is self-contained. In a rehearsal on a machine
# with .NET, the SDK's folder is also masked by an empty one in a private mount namespace (where unshare works).
mkdir -p "$work/no-dotnet"
runner=(env -u DOTNET_ROOT -u DOTNET_HOST_PATH PATH="$work/no-dotnet" "$work/publish/AccelSdk.GpuCheck" run --out "$results"
  --device "$device" --onnx-data "$work/onnx" --expected "$root/tests/conformance/ilgpu-expected-failures.txt"
  ${resnet18:+--resnet18 "$resnet18"}
  --blazeface "$carry/face_detection_front_128x128_barracuda.onnx" --blazeface "$carry/face_detection_back_256x256_barracuda.onnx"
  --sizes "$sizes" --runs "$runs" --items "$items" --budget-s "$budget" --stages "$stages"
  --nvidia-smi "$results" --torch-anchors "$results/torch-anchors.json")
dotnet_home=$(command -v dotnet > /dev/null && dirname "$(readlink -f "$(command -v dotnet)")" || true)
if [ -n "$dotnet_home" ] && unshare -m true 2> /dev/null; then
  say "masking $dotnet_home (this machine's .NET) for the runner"
  runner=(unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$work/no-dotnet" "$dotnet_home" "${runner[@]}")
elif [ -n "$dotnet_home" ]; then
  say "note: .NET is installed here ($dotnet_home) and cannot be masked: it is off PATH and DOTNET_ROOT only"
fi
say "check runner (timeout ${runner_timeout}s, budget ${budget}s)..."
timeout "$runner_timeout" "${runner[@]}"
rc=$?
case $rc in
  0) say "every check passed" ;;
  1) say "some check failed: see summary.md" ;;
  124) say "the runner ran past ${runner_timeout}s and was stopped: summary.md holds the stages it finished" ;;
  *) say "the runner exited $rc" ;;
esac
exit $rc
