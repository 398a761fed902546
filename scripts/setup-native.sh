#!/usr/bin/env bash
# Installs what building and testing native/ needs on Debian 12: the host toolchain, the linux-arm64 cross toolchain
# and qemu-user (to run the arm64 CTest programs), and the OpenCL ICD loader with PoCL's CPU driver (so the device
# probe has a real OpenCL platform to find), and libclang for tools/AccelSdk.BindingGen. Idempotent and quiet: installs only what is missing.
set -euo pipefail

packages=(
  cmake ninja-build gcc g++ binutils
  gcc-aarch64-linux-gnu g++-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
  ocl-icd-libopencl1 pocl-opencl-icd
  libclang1-14 libclang-common-14-dev
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-native: missing Debian packages: ${missing[*]}" >&2
  echo "setup-native: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "setup-native: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
