#!/usr/bin/env bash
# Fetches the TFLite test models that no package registry serves as a plain file into .models/tflite (git-ignored),
# each checked against its pinned sha256: wake-word models from Debian forky's python3-pyopen-wakeword /
# python3-pymicro-wakeword (unpacked by setup-tflite.sh) and TFLite's own test models from the tensorflow source
# package's orig tarball. The npm models (MediaPipe, openWakeWord) are rows of models/models.tsv, fetched by
# fetch-models.sh like every other registry model. Idempotent and quiet.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/.models/tflite"
CACHE="$REPO/.models/cache"
RUNTIME="${ACCELSDK_TFLITE_RUNTIME_DIR:-$REPO/.tflite-runtime}"
mkdir -p "$OUT" "$CACHE"

# source <tab> path in source <tab> file name here <tab> sha256
MODELS=$(cat <<'LIST'
deb:python3-pymicro-wakeword	usr/lib/python3/dist-packages/pymicro_wakeword/models/hey_jarvis.tflite	micro_hey_jarvis.tflite	21a7976add39ee24ec96c63d96b7aaa18e24d1d9824b963e451da8feb4b78b77
deb:python3-pymicro-wakeword	usr/lib/python3/dist-packages/pymicro_wakeword/models/okay_nabu.tflite	micro_okay_nabu.tflite	d89128c4d16a72de429119fb2254ce46649553c2a24f5dd840175c80d7b9d094
deb:python3-pymicro-wakeword	usr/lib/python3/dist-packages/pymicro_wakeword/models/alexa.tflite	micro_alexa.tflite	9011a8155b04de858c48038529235cbc0e42e9fca05a55bf588cb80a653a723b
deb:python3-pymicro-wakeword	usr/lib/python3/dist-packages/pymicro_wakeword/models/hey_mycroft.tflite	micro_hey_mycroft.tflite	c2a9b6ed51182db72e014781d5a4ece1929dc232a40b5b4be384f0295f0e1571
deb:python3-pyopen-wakeword	usr/lib/python3/dist-packages/pyopen_wakeword/models/okay_nabu.tflite	okay_nabu.tflite	2982cecde4ee81cc7a2573d2602a7d54f0669425c94a7b64af77e0ff92b03a18
src:tensorflow=2.14.1+dfsg-3.1	tensorflow/lite/testdata/add.bin	add.bin	038f8d317c07b094e3b7d0c7aba60a3d9e441eb4188c8515920108b963c3873d
src:tensorflow=2.14.1+dfsg-3.1	tensorflow/lite/testdata/add_quantized_int8.bin	add_quantized_int8.bin	318c7543ac9a0c5f981e6f0c4b12c807f8180635661df99035c33df109dd154f
src:tensorflow=2.14.1+dfsg-3.1	tensorflow/lite/testdata/multi_add.bin	multi_add.bin	9846e08359ac62acef0dd84ecf25a6d1b0347233ace30c3d6b877de9c70f846a
src:tensorflow=2.14.1+dfsg-3.1	tensorflow/lite/tools/optimize/testdata/fc_qat.bin	fc_qat.bin	e6042c6c7830c19c2357c94d383a74e01e209096dfe80b7d3345902d3a34f72b
src:tensorflow=2.14.1+dfsg-3.1	tensorflow/lite/python/optimize/test_data/mobilenet_like_model.bin	mobilenet_like_model.bin	107f4519e95fec3b5c94d8a07b6aaf0baece9bf9aa1da3bc4cf57a00892846ac
LIST
)

log() { echo "fetch-tflite-models: $*" >&2; }
check() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

private_apt_source() {  # downloads a source package's files into $CACHE/src with a private apt configuration
  local spec="$1" dir="$CACHE/aptsrc"
  mkdir -p "$dir/lists/partial" "$dir/etc/parts" "$dir/cache" "$CACHE/src"
  local mirror; mirror="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian} forky main" > "$dir/etc/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dir/etc/sources.list" -o "Dir::Etc::SourceParts=$dir/etc/parts"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::State::status=/dev/null" -o "Dir::Cache=$dir/cache"
    -o "Acquire::Check-Valid-Until=false" -o "Debug::NoLocking=true" -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update -qq >/dev/null
  # Only the orig tarball is needed (the mirror lacks some .dsc files); apt's own helper fetches it and checks the
  # SHA256 that the signed Sources index gives.
  apt-get "${opts[@]}" source --print-uris -qq "$spec" | grep -E "\.orig\.tar\." | while read -r uri file size hash; do
    /usr/lib/apt/apt-helper -o "Debug::NoLocking=true" -o "APT::Sandbox::User=root" download-file "${uri//\'/}" "$CACHE/src/$file" "$hash" >/dev/null
  done
  rm -rf "$dir/lists"
}

while IFS=$'\t' read -r source inner name sha; do
  [ -n "$source" ] || continue
  target="$OUT/$name"
  check "$target" "$sha" && continue
  case "$source" in
    deb:*)
      [ -f "$RUNTIME/root/$inner" ] || bash "$REPO/scripts/setup-tflite.sh" >/dev/null
      cp "$RUNTIME/root/$inner" "$target.tmp"
      ;;
    src:*)
      spec="${source#src:}"
      extracted="$CACHE/src/extracted"
      if [ ! -d "$extracted" ]; then
        orig="$(ls "$CACHE"/src/"${spec%%=*}"_*.orig.tar.* 2>/dev/null | head -1 || true)"
        if [ -z "$orig" ]; then log "downloading the ${spec} source package"; private_apt_source "$spec"; fi
        orig="$(ls "$CACHE"/src/"${spec%%=*}"_*.orig.tar.* | head -1)"
        # One pass over the tarball for every file the tests use (xz decompression dominates).
        mkdir -p "$extracted.tmp"
        patterns=$(awk -F'\t' '$1 ~ /^src:/ {print "*/" $2}' <<< "$MODELS")
        # shellcheck disable=SC2086
        set -f
        tar -xJf "$orig" -C "$extracted.tmp" --wildcards $patterns
        set +f
        mv "$extracted.tmp" "$extracted"
      fi
      found="$(find "$extracted" -path "*/$inner" | head -1)"
      cp "$found" "$target.tmp"
      ;;
  esac
  if ! check "$target.tmp" "$sha"; then log "$name: sha256 mismatch (want $sha)"; rm -f "$target.tmp"; exit 1; fi
  mv "$target.tmp" "$target"
done <<< "$MODELS"
