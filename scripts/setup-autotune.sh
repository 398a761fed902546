#!/usr/bin/env bash
# What the autotuner's tests need beyond scripts/setup.sh: headless Chromium, which opens the generated
# report.html and reports console errors (tests/AccelSdk.Autotune.Tests/ReportHtmlTests.cs). Idempotent and quiet.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  command -v apt-get >/dev/null || { echo "setup-autotune: apt-get not found; install chromium by hand" >&2; exit 1; }
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  echo "setup-autotune: installing chromium"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
