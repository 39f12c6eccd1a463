#!/usr/bin/env bash
# Run cri-tools' critest (v1.29.0) against a private containerd or berth daemon, offline
# (docs/cri.md "critest and crictl"). As root, from a berth checkout:
#
#   tools/critest/run.sh build                 # crictl + critest into $BIN (from $SRC or the mirror)
#   tools/critest/run.sh containerd [ARGS…]    # critest against a private containerd 1.6
#   tools/critest/run.sh berth [ARGS…]         # critest against a private berth daemon
#   tools/critest/run.sh up berth|containerd   # start registry + runtime and leave them running
#   tools/critest/run.sh down berth|containerd # stop what `up` started, clean up
#   tools/critest/run.sh down registry         # stop the registry the first run started
#
# ARGS go to critest (e.g. -ginkgo.focus='PodSandbox'); BERTH_ARGS to the berth daemon (e.g.
# "--log-level debug"). A run writes $WORK/<runtime>/critest.log
# and junit.xml. Every process started here is stopped by its PID; the runtime's mounts,
# its CNI bridge and iptables rules go with it.
set -euo pipefail

REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BIN:-/tmp/cri-tools-bin}
SRC=${SRC:-/tmp/cri-tools-src}
MIRROR=${MIRROR:-/work/.mirror/kubernetes-sigs+cri-tools/repo}
WORK=${WORK:-/tmp/critest-run}
REG_PORT=${REG_PORT:-5077}
REG="127.0.0.1:$REG_PORT"
PAUSE="$REG/pause:3.9"
BERTH=(deno run -A "$REPO/main.ts")

build() {
  [ -d "$SRC" ] || git clone -q "$MIRROR" "$SRC"
  git -C "$SRC" checkout -q v1.29.0
  # Go 1.19 builds v1.29.0 from its vendored sources although go.mod says 1.21
  (cd "$SRC" && GOPROXY=off GOFLAGS=-mod=vendor make binaries VERSION=1.29.0)
  mkdir -p "$BIN"
  cp "$SRC/build/bin/linux/amd64/crictl" "$SRC/build/bin/linux/amd64/critest" "$BIN/"
}

start_registry() {
  mkdir -p "$WORK/registry"
  if ! curl -sf "http://$REG/v2/" >/dev/null; then
    "${BERTH[@]}" registry --addr "$REG" --root "$WORK/registry/root" >"$WORK/registry/log" 2>&1 &
    echo $! >"$WORK/registry/pid"
    for _ in $(seq 60); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 1; done
  fi
  # Debian's dynamic busybox: its shell runs applets through /bin, as the busybox image's does
  if [ ! -x "$WORK/busybox/bin/busybox" ]; then
    (cd "$WORK" && apt-get download busybox && dpkg-deb -x busybox_*.deb "$WORK/busybox")
  fi
  CRITEST_BUSYBOX="$WORK/busybox/bin/busybox" \
    deno run -A "$REPO/tools/critest/images.ts" "http://$REG" "pause:3.9" >/dev/null
}

# bridge + host-local + portmap, as tests/cri_pods_test.ts writes it; one bridge per runtime
cni_conf() {
  local dir=$1 bridge=$2 subnet=$3
  mkdir -p "$dir/net.d"
  cat >"$dir/net.d/10-critest.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "critest-$bridge", "plugins": [
  {"type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$subnet"}]], "dataDir": "$dir/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
}

start_containerd() {
  local d=$WORK/containerd
  mkdir -p "$d"
  cni_conf "$d" critestc0 10.238.1.0/24
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE"
  # this machine's root lacks CAP_SYS_RESOURCE: no oom_score_adj below containerd's own
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."gcr.io"]
    endpoint = ["http://$REG"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.k8s.io"]
    endpoint = ["http://$REG"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."$REG"]
    endpoint = ["http://$REG"]
EOF
  containerd --config "$d/config.toml" >"$d/log" 2>&1 &
  echo $! >"$d/pid"
  ENDPOINT="unix://$d/containerd.sock"
}

start_berth() {
  local d=$WORK/berth
  mkdir -p "$d"
  cni_conf "$d" critestb0 10.238.2.0/24
  "${BERTH[@]}" daemon --root "$d/root" --exec-root "$d/exec" -H "unix://$d/berth.sock" \
    --cri-socket "$d/cri.sock" --cni-conf-dir "$d/net.d" --cgroup-parent /critest-berth \
    --insecure-registry "$REG" \
    --cri-registry-mirror "gcr.io=http://$REG" \
    --cri-registry-mirror "registry.k8s.io=http://$REG" ${BERTH_ARGS:-} >"$d/log" 2>&1 &
  echo $! >"$d/pid"
  ENDPOINT="unix://$d/cri.sock"
}

wait_ready() {
  for _ in $(seq 120); do
    if [ -x "$BIN/crictl" ]; then
      "$BIN/crictl" -r "$ENDPOINT" version >/dev/null 2>&1 && return 0
    elif [ -S "${ENDPOINT#unix://}" ]; then
      return 0
    fi
    sleep 1
  done
  echo "runtime at $ENDPOINT did not come up" >&2
  return 1
}

stop_pid() { # by the PID its start wrote
  local f=$1
  [ -f "$f" ] || return 0
  local pid
  pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$f"
}

down() {
  local rt=$1 d=$WORK/$1
  if [ "$rt" = registry ]; then
    stop_pid "$WORK/registry/pid"
    return
  fi
  if [ -S "$d/cri.sock" ] || [ -S "$d/containerd.sock" ]; then
    local ep="unix://$d/cri.sock"
    [ "$rt" = containerd ] && ep="unix://$d/containerd.sock"
    # pods left by an interrupted run: their CNI teardown is the runtime's
    for p in $("$BIN/crictl" -r "$ep" pods -q 2>/dev/null); do
      "$BIN/crictl" -r "$ep" rmp -f "$p" >/dev/null 2>&1 || true
    done
  fi
  stop_pid "$d/pid"
  if [ "$rt" = containerd ]; then
    # containerd leaves its shims (and their containers) running by design
    for s in $(pgrep -f "containerd-shim-runc-v2 .*-address $d/containerd.sock" || true); do
      kill -9 "$s" 2>/dev/null || true
    done
  fi
  { grep -o " $d/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do
    umount -l "$m" || true
  done
  # the daemon's --cgroup-parent, and critest's /test.slice (its parent when a runtime does not
  # answer RuntimeConfig): rmdir only removes them empty
  for c in /sys/fs/cgroup/*/critest-berth /sys/fs/cgroup/*/test.slice /sys/fs/cgroup/critest-berth \
    /sys/fs/cgroup/test.slice; do
    [ -d "$c" ] && rmdir "$c" 2>/dev/null || true
  done
  local bridge=critestb0
  [ "$rt" = containerd ] && bridge=critestc0
  ip link del "$bridge" 2>/dev/null || true
}

up() {
  mkdir -p "$WORK"
  start_registry
  "start_$1"
  wait_ready
  echo "$1 CRI at $ENDPOINT; registry $REG"
}

case "${1:-}" in
build) build ;;
up) up "$2" ;;
down) down "$2" ;;
containerd | berth)
  rt=$1
  shift
  # a fresh root: critest pulls only images the runtime does not have
  down "$rt"
  rm -rf "${WORK:?}/$rt"
  up "$rt"
  trap 'down $rt' EXIT
  set +e
  "$BIN/critest" -runtime-endpoint "$ENDPOINT" -image-endpoint "$ENDPOINT" \
    -ginkgo.no-color -ginkgo.junit-report "$WORK/$rt/junit.xml" "$@" 2>&1 |
    tee "$WORK/$rt/critest.log" | grep -E '^\s*\[(FAIL|PANICKED)\]|^(Ran|PASS|FAIL)' || true
  ;;
*)
  sed -n '2,14p' "$0"
  exit 2
  ;;
esac
