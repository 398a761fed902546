#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds everything in Release, runs every test
# project (the full ONNX conformance suite through the ORT backend included), then checks that the GPU flavour of
# the ONNX Runtime backend builds and falls back to the CPU cleanly on a machine without CUDA.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

stage() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

stage "setup"
bash scripts/setup.sh

stage "build"
dotnet build AccelSdk.sln -c Release --nologo -clp:ErrorsOnly

stage "test"
log="$root/artifacts/test.log"
mkdir -p "$root/artifacts"
set +e
dotnet test AccelSdk.sln -c Release --no-build --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

stage "gpu flavour"
bash scripts/check-gpu-flavour.sh || status=1

# One closing line in the form CI reads: totals over every test assembly.
awk '/^(Passed|Failed)!/ {
       for (i = 1; i <= NF; i++) {
         if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
       }
     }
     END { gsub(",", "", p); printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
