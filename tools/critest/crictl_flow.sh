#!/usr/bin/env bash
# crictl's everyday flow against a CRI endpoint (docs/cri.md "critest"): after
# `tools/critest/run.sh up berth` (or containerd), run
#   tools/critest/crictl_flow.sh unix:///tmp/critest-run/berth/cri.sock
# Each step prints its command; the first failure stops the walk (the pod is removed).
set -euo pipefail
EP=${1:?usage: crictl_flow.sh unix:///PATH/TO/cri.sock}
BIN=${BIN:-/tmp/cri-tools-bin}
C=("$BIN/crictl" -r "$EP" -i "$EP" -t 60s)
IMG=registry.k8s.io/e2e-test-images/busybox:1.29-2
T=$(mktemp -d /tmp/crictl-flow-XXXXXX)
step() {
  echo "+ crictl $*" >&2
  "${C[@]}" "$@"
}
POD=""
cleanup() {
  [ -n "$POD" ] && "${C[@]}" rmp -f "$POD" >/dev/null 2>&1 || true
  rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/pod.json" <<EOF
{"metadata": {"name": "flow", "namespace": "default", "uid": "flow-uid", "attempt": 1},
 "hostname": "flow", "log_directory": "$T/logs", "linux": {}}
EOF
cat >"$T/ctr.json" <<EOF
{"metadata": {"name": "web"}, "image": {"image": "$IMG"},
 "command": ["sh", "-c", "echo started; while true; do echo tick; sleep 1; done"],
 "log_path": "web.log", "labels": {"app": "flow"}}
EOF

step version
step info >/dev/null
step pull "$IMG"
step images
step inspecti "$IMG" | grep -q '"id"'
POD=$(step runp "$T/pod.json")
step pods
step inspectp "$POD" | grep -q '"SANDBOX_READY"'
CTR=$(step create "$POD" "$T/ctr.json" "$T/pod.json")
step start "$CTR"
step ps
step inspect "$CTR" | grep -q '"CONTAINER_RUNNING"'
[ "$(step exec -s "$CTR" hostname)" = flow ]
step exec -s "$CTR" sh -c 'exit 3' && exit 1 || [ $? -eq 3 ]
sleep 2
step logs "$CTR" | grep -q started
step logs --tail 1 "$CTR" | grep -q tick
step stats "$CTR"
step statsp "$POD"
step stop "$CTR"
step ps -a --state exited | grep -q "${CTR:0:13}"
step rm "$CTR"
step stopp "$POD"
step rmp "$POD"
POD=""
step rmi "$IMG"
! "${C[@]}" inspecti "$IMG" >/dev/null 2>&1
echo "crictl flow: all steps passed" >&2
