#!/usr/bin/env bash
# crictl's everyday flow against a CRI endpoint (docs/cri.md "critest and crictl"): after
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
# (not `step … | grep -q`: grep's early exit would SIGPIPE crictl under pipefail)
has() { grep -q -- "$1" <<<"$2"; }
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
has '"id"' "$(step inspecti "$IMG")"
POD=$(step runp "$T/pod.json")
step pods
has '"SANDBOX_READY"' "$(step inspectp "$POD")"
CTR=$(step create "$POD" "$T/ctr.json" "$T/pod.json")
step start "$CTR"
step ps
has '"CONTAINER_RUNNING"' "$(step inspect "$CTR")"
[ "$(step exec -s "$CTR" hostname)" = flow ]
# a non-zero exit is crictl's failure (exit 1) naming the code
if out=$(step exec -s "$CTR" sh -c 'exit 3' 2>&1); then exit 1; fi
grep -q 'exited with 3' <<<"$out"
sleep 2
has started "$(step logs "$CTR")"
has tick "$(step logs --tail 1 "$CTR")"
step stats "$CTR"
step statsp "$POD"
step stop "$CTR"
has "${CTR:0:13}" "$(step ps -a --state exited)"
step rm "$CTR"
step stopp "$POD"
step rmp "$POD"
POD=""
step rmi "$IMG"
! "${C[@]}" inspecti "$IMG" >/dev/null 2>&1
echo "crictl flow: all steps passed" >&2
