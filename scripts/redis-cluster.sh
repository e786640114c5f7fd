#!/usr/bin/env bash
# A real local Redis Cluster for the tests: six redis-server processes (3 masters, 3
# replicas) from Debian's redis-server package, on free ports, in a folder of their own.
#
#   scripts/redis-cluster.sh start [DIR]   start one (default DIR: target/redis-cluster) and
#                                          print its nodes, comma-separated
#   scripts/redis-cluster.sh stop [DIR]    stop it and remove DIR
#   scripts/redis-cluster.sh status [DIR]  say whether it runs, and its nodes
#   scripts/redis-cluster.sh nextest       nextest setup script: start one in a fresh folder
#                                          under target/, export OTP_TEST_REDIS_CLUSTER_NODES
#                                          (and _DIR) to the tests, and stop it when nextest
#                                          exits. An OTP_TEST_REDIS_CLUSTER_NODES already set
#                                          is passed on instead.
#
# OTP_REDIS_CLUSTER_NODE_TIMEOUT_MS sets cluster-node-timeout (default 2000): a master that
# stops answering for that long is failed over to its replica.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SELF="$ROOT/scripts/redis-cluster.sh"
NODE_TIMEOUT_MS="${OTP_REDIS_CLUSTER_NODE_TIMEOUT_MS:-2000}"

log() { printf 'redis-cluster: %s\n' "$*" >&2; }

ensure_installed() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return
  fi
  log "installing Debian's redis-server (redis-server and redis-cli are missing)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends redis-server >&2
}

# Whether something listens on 127.0.0.1:$1.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Six free ports in a row whose cluster-bus ports (+10000) are free too, all below the
# kernel's ephemeral range (32768 and up here), where an outgoing connection could take a
# port between this check and the bind.
free_base_port() {
  local base port taken
  for _ in $(seq 50); do
    base=$((12000 + (RANDOM % 1000) * 10))
    taken=0
    for port in $(seq "$base" $((base + 5))); do
      if port_taken "$port" || port_taken $((port + 10000)); then taken=1; break; fi
    done
    if [ "$taken" -eq 0 ]; then echo "$base"; return; fi
  done
  log "no six free ports found"
  return 1
}

ports_of() { cat "$1/ports"; }

nodes_of() {
  local dir="$1" port nodes=""
  for port in $(ports_of "$dir"); do nodes="${nodes:+$nodes,}127.0.0.1:$port"; done
  echo "$nodes"
}

start_node() {
  local dir="$1" port="$2"
  mkdir -p "$dir/$port"
  redis-server - >/dev/null <<EOF
port $port
bind 127.0.0.1
daemonize yes
dir $dir/$port
pidfile $dir/$port/redis.pid
logfile $dir/$port/redis.log
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $NODE_TIMEOUT_MS
cluster-replica-validity-factor 0
cluster-require-full-coverage no
save ""
appendonly no
EOF
}

wait_until() {
  local what="$1" tries="$2"
  shift 2
  for _ in $(seq "$tries"); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  log "timed out waiting for $what"
  return 1
}

node_answers() { [ "$(redis-cli -p "$1" ping 2>/dev/null)" = "PONG" ]; }

every_node_sees_ok() {
  local port
  for port in $(ports_of "$1"); do
    redis-cli -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

every_replica_in_sync() {
  local port synced=0
  for port in $(ports_of "$1"); do
    if redis-cli -p "$port" info replication 2>/dev/null | grep -q '^master_link_status:up'; then
      synced=$((synced + 1))
    fi
  done
  [ "$synced" -eq 3 ]
}

# Every node sees the same roles: three masters and three replicas.
every_node_agrees() {
  local port
  for port in $(ports_of "$1"); do
    redis-cli -p "$port" cluster nodes 2>/dev/null \
      | awk '$3 ~ /master/ && $3 !~ /fail/ {m++} $3 ~ /slave/ {r++} END {exit !(m == 3 && r == 3)}' \
      || return 1
  done
}

start() {
  local dir="$1" base port attempt
  ensure_installed
  if [ -f "$dir/ports" ] && every_node_sees_ok "$dir" 2>/dev/null; then
    log "already running in $dir"
    nodes_of "$dir"
    return
  fi
  stop "$dir" 2>/dev/null || true
  for attempt in 1 2 3; do
    mkdir -p "$dir"
    base="$(free_base_port)"
    seq "$base" $((base + 5)) | tr '\n' ' ' >"$dir/ports"
    local started=1
    for port in $(ports_of "$dir"); do
      start_node "$dir" "$port" || { started=0; break; }
    done
    for port in $(ports_of "$dir"); do
      if [ "$started" -eq 1 ] && ! wait_until "node $port" 50 node_answers "$port"; then
        started=0
        tail -n 5 "$dir/$port/redis.log" >&2 2>/dev/null || true
      fi
    done
    [ "$started" -eq 1 ] && break
    log "a node did not start (port taken meanwhile?); attempt $attempt failed"
    stop "$dir" || true
    [ "$attempt" -eq 3 ] && return 1
  done
  local addresses=()
  for port in $(ports_of "$dir"); do addresses+=("127.0.0.1:$port"); done
  redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log" >&2; return 1; }
  wait_until "cluster_state:ok on every node" 300 every_node_sees_ok "$dir"
  wait_until "the replicas to sync" 300 every_replica_in_sync "$dir"
  wait_until "every node to see every role" 300 every_node_agrees "$dir"
  log "6 nodes up in $dir (cluster-node-timeout ${NODE_TIMEOUT_MS} ms)"
  nodes_of "$dir"
}

stop() {
  local dir="$1" pidfile pid
  [ -d "$dir" ] || return 0
  for pidfile in "$dir"/*/redis.pid; do
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$dir"
}

status() {
  local dir="$1"
  if [ -f "$dir/ports" ] && every_node_sees_ok "$dir" 2>/dev/null; then
    echo "running: $(nodes_of "$dir")"
  else
    echo "not running"
    return 1
  fi
}

nextest() {
  if [ -n "${OTP_TEST_REDIS_CLUSTER_NODES:-}" ]; then
    log "using the cluster at $OTP_TEST_REDIS_CLUSTER_NODES"
    echo "OTP_TEST_REDIS_CLUSTER_NODES=$OTP_TEST_REDIS_CLUSTER_NODES" >>"$NEXTEST_ENV"
    return
  fi
  local runs="$ROOT/target/redis-cluster-runs" dir nodes started
  mkdir -p "$runs"
  # Clusters of runs that ended without stopping theirs (a killed nextest).
  for dir in "$runs"/*/; do
    [ -f "$dir/owner" ] && ! kill -0 "$(cat "$dir/owner")" 2>/dev/null && stop "${dir%/}"
  done
  dir="$(mktemp -d "$runs/run.XXXXXX")"
  started=$(date +%s%N)
  nodes="$(start "$dir")"
  log "started in $(( ($(date +%s%N) - started) / 1000000 )) ms"
  # nextest itself runs this script: the cluster lives as long as that process.
  echo "$PPID" >"$dir/owner"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; "$2" stop "$3"' \
    watchdog "$PPID" "$SELF" "$dir" </dev/null >/dev/null 2>&1 &
  {
    echo "OTP_TEST_REDIS_CLUSTER_NODES=$nodes"
    echo "OTP_TEST_REDIS_CLUSTER_DIR=$dir"
  } >>"$NEXTEST_ENV"
}

command="${1:-}"
case "$command" in
  start) start "${2:-$ROOT/target/redis-cluster}" ;;
  stop) stop "${2:-$ROOT/target/redis-cluster}" ;;
  status) status "${2:-$ROOT/target/redis-cluster}" ;;
  nextest) nextest ;;
  *)
    echo "usage: $0 start|stop|status [DIR] | nextest" >&2
    exit 2
    ;;
esac
