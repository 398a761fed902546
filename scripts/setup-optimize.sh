#!/usr/bin/env bash
# Real images for calibrating and evaluating quantized image models (issue 7): the sample pictures scikit-image
# ships in Debian's python3-skimage. Only the .deb is downloaded and unpacked (no install, no Python stack);
# the PNGs land in .models/images/{calibration,evaluation}. Idempotent and quiet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.models/images"
calibration=(astronaut coffee motorcycle_left camera coins brick grass gravel)
evaluation=(chelsea motorcycle_right ihc moon page text logo clock_motion)

complete=1
for name in "${calibration[@]}"; do [[ -f "$dest/calibration/$name.png" ]] || complete=0; done
for name in "${evaluation[@]}"; do [[ -f "$dest/evaluation/$name.png" ]] || complete=0; done
[[ $complete == 1 ]] && exit 0

work="$root/.cache/skimage"
rm -rf "$work"
mkdir -p "$work" "$dest/calibration" "$dest/evaluation"
if ! (cd "$work" && apt-get download -qq python3-skimage >/dev/null 2>&1); then
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  (cd "$work" && apt-get download -qq python3-skimage >/dev/null)
fi
dpkg-deb -x "$work"/python3-skimage_*.deb "$work/root"
data="$work/root/usr/lib/python3/dist-packages/skimage/data"
for name in "${calibration[@]}"; do cp "$data/$name.png" "$dest/calibration/"; done
for name in "${evaluation[@]}"; do cp "$data/$name.png" "$dest/evaluation/"; done
rm -rf "$work"
echo "setup-optimize: scikit-image sample images in .models/images"
