#!/usr/bin/env bash
# Installs what AccelSdk's build, tests and demo need on Debian 12 with the .NET 10 SDK, then fetches the models.
# Idempotent and quiet: packages already installed are not touched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

packages=(libonnx-dev libonnx-testdata locales)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  command -v apt-get >/dev/null || { echo "setup: apt-get not found; install ${missing[*]} by hand" >&2; exit 1; }
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ONNX Runtime's StringNormalizer needs the en_US.UTF-8 locale.
if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  echo "setup: generating the en_US.UTF-8 locale"
  $sudo sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
  $sudo locale-gen >/dev/null
fi

for extra in "$root"/scripts/setup-*.sh; do
  [[ -e "$extra" ]] && bash "$extra"
done

bash "$root/scripts/fetch-models.sh"
