#!/usr/bin/env bash
# The main job (README): lists this machine's devices, lets Accelerator.Select measure the default model
# (ResNet18) on each, and runs it, writing the outputs as ONNX TensorProto files under artifacts/demo/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
bash scripts/setup.sh
dotnet build src/AccelSdk.Cli/AccelSdk.Cli.csproj -c Release -o artifacts/cli --nologo -clp:ErrorsOnly >/dev/null
cli=artifacts/cli/AccelSdk.Cli
model=.models/resnet18/ResNet18.onnx
echo "== accelsdk devices"; $cli devices
echo; echo "== accelsdk select $model"; $cli select "$model"
echo; echo "== accelsdk run $model"; $cli run "$model" --output-dir artifacts/demo
echo; echo "outputs written to artifacts/demo/"
