#!/usr/bin/env bash
# What the cluster's tests need beyond scripts/setup.sh: Debian's redis-server (the tests start their own instance
# on a free loopback port; the package's system service is not needed). Idempotent and quiet.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  command -v apt-get >/dev/null || { echo "setup-cluster: apt-get not found; install redis-server by hand" >&2; exit 1; }
  sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  echo "setup-cluster: installing redis-server"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
