#!/usr/bin/env bash
# Builds, on a machine with the .NET SDK, everything the GPU check (issue 14) carries to a GPU machine that has no .NET:
#   artifacts/gpu-check/carry/
#     gpu-check-linux-x64.tar.xz   the check runner (tests/gpu/AccelSdk.GpuCheck), dotnet publish, self-contained, not trimmed
#     onnx-node-claimed.tar.xz     the ONNX node tests the runner executes: those claimed on ilgpu-cpu (claimed.txt)
#     face_detection_*.onnx        BlazeFace front (128x128) and back (256x256), from .models/blazeface
# ResNet18 is not carried (45 MB): tests/gpu/torch_anchors.py exports it from torchvision on the GPU machine.
# The folder is what the device tool's carry names; tests/gpu/README.md has the call. Prints every size.
# Usage: tests/gpu/prepare.sh      (ACCELSDK_ONNX_TESTDATA overrides /usr/share/libonnx-testdata/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${ACCELSDK_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
carry=artifacts/gpu-check/carry
stage=artifacts/gpu-check/stage
limit_mib=60   # the device tool takes 64 MiB per call, the repository's tracked files included

blazeface=(.models/blazeface/face_detection_front_128x128_barracuda.onnx .models/blazeface/face_detection_back_256x256_barracuda.onnx)
for f in "${blazeface[@]}"; do
  [ -f "$f" ] || { echo "prepare.sh: $f is missing: run scripts/setup.sh (it fetches the models)" >&2; exit 1; }
done
[ -d "$data/node" ] || { echo "prepare.sh: $data/node is missing: install Debian's libonnx-testdata (scripts/setup.sh)" >&2; exit 1; }

rm -rf "$carry" "$stage"
mkdir -p "$carry" "$stage"
echo "prepare.sh: dotnet publish (self-contained linux-x64)..."
dotnet publish tests/gpu/AccelSdk.GpuCheck/AccelSdk.GpuCheck.csproj -c Release -r linux-x64 --self-contained true \
  -o "$stage/publish" -nologo -v q
find "$stage/publish" \( -name '*.pdb' -o -name '*.xml' \) -delete

echo "prepare.sh: listing the node tests claimed on ilgpu-cpu (with the published runner, no dotnet on PATH)..."
env -u DOTNET_ROOT PATH=/usr/bin:/bin "$stage/publish/AccelSdk.GpuCheck" list-claimed "$data" --device ilgpu-cpu > "$stage/claimed.txt"
[ -s "$stage/claimed.txt" ] || { echo "prepare.sh: no claimed node test found under $data" >&2; exit 1; }

echo "prepare.sh: packing..."
tar -C "$stage" -cf - publish | xz -6 -T0 > "$carry/gpu-check-linux-x64.tar.xz"
tar -C "$data" -cf - -T "$stage/claimed.txt" | xz -6 -T0 > "$carry/onnx-node-claimed.tar.xz"
cp "$stage/claimed.txt" "${blazeface[@]}" "$carry/"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
publish_bytes=$(du -sb "$stage/publish" | cut -f1)
cases_bytes=$(du -sbc $(sed "s|^|$data/|" "$stage/claimed.txt") | tail -1 | cut -f1)
carry_bytes=$(du -sb "$carry" | cut -f1)
tracked_bytes=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
echo "publish:          $(mib "$publish_bytes") uncompressed, $(mib "$(stat -c %s "$carry/gpu-check-linux-x64.tar.xz")") as .tar.xz"
echo "node tests:       $(wc -l < "$stage/claimed.txt") cases, $(mib "$cases_bytes") uncompressed, $(mib "$(stat -c %s "$carry/onnx-node-claimed.tar.xz")") as .tar.xz"
echo "BlazeFace:        $(mib "$(du -cb "${blazeface[@]}" | tail -1 | cut -f1)")"
echo "carry total:      $(mib "$carry_bytes") ($carry); tracked files: $(mib "$tracked_bytes"); device tool limit 64 MiB"
total=$((carry_bytes + tracked_bytes))
if [ "$total" -gt $((limit_mib * 1048576)) ]; then
  echo "prepare.sh: carry plus tracked files is $(mib "$total"), over the ${limit_mib} MiB this script allows" >&2
  exit 1
fi
