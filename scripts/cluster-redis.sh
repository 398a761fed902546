#!/usr/bin/env bash
# Starts a private redis-server for an AccelSdk cluster's membership, on loopback, without persistence:
#   scripts/cluster-redis.sh [PORT]        (default 6379; prints the --cluster value to give every node and client)
#   scripts/cluster-redis.sh stop [PORT]   (stops the one this script started on PORT)
# For nodes on several machines, run redis where they all reach it and bind that address instead (REDIS_BIND=ADDR).
set -euo pipefail
command -v redis-server >/dev/null || { echo "cluster-redis: redis-server is missing: sudo apt-get install redis-server" >&2; exit 1; }
state="${XDG_RUNTIME_DIR:-/tmp}/accelsdk-cluster-redis"
mkdir -p "$state"
if [[ "${1:-}" == stop ]]; then
  port="${2:-6379}"
  pidfile="$state/redis-$port.pid"
  [[ -f "$pidfile" ]] || { echo "cluster-redis: no redis started by this script on port $port" >&2; exit 1; }
  kill "$(cat "$pidfile")" && rm -f "$pidfile"
  echo "cluster-redis: stopped redis on port $port"
  exit 0
fi
port="${1:-6379}"
[[ "$port" =~ ^[0-9]+$ ]] && (( port > 0 && port < 65536 )) || { echo "cluster-redis: '$port' is not a port number" >&2; exit 2; }
bind="${REDIS_BIND:-127.0.0.1}"
redis-server --port "$port" --bind "$bind" --save '' --appendonly no --daemonize yes \
  --pidfile "$state/redis-$port.pid" --dir "$state" --logfile "$state/redis-$port.log"
for _ in $(seq 1 50); do
  [[ -s "$state/redis-$port.pid" ]] && break
  sleep 0.1
done
[[ -s "$state/redis-$port.pid" ]] || { echo "cluster-redis: redis did not start; see $state/redis-$port.log" >&2; exit 1; }
echo "cluster-redis: redis on $bind:$port (pid $(cat "$state/redis-$port.pid")); nodes and clients take: --cluster redis:$bind:$port"
