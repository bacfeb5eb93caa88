#!/bin/bash
# Golden containers on BTRFS: with the LXC path on a BTRFS filesystem, a golden busybox container
# created with `rootfs.backing: btrfs` has its root filesystem as a subvolume, and a container
# cloned from it (`rootfs.clone_from`) gets a snapshot of that subvolume (btrfs-progs, the oracle,
# shows the golden one as its parent), starts and runs; destroying the clone leaves the golden one.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
use_lxc
command -v btrfs >/dev/null || skip "btrfs-progs is not installed"
mount_btrfs "$LXC_PATH"
G=${LXC_PREFIX}g
C=${LXC_PREFIX}c
opl() { op --lxc-path "$LXC_PATH" "$@"; }
state() {  # GOLDEN_STATE CLONE_STATE
  printf '{"version": 1, "plugins": {"lxc": {"containers": {
    "%s": {"template": "busybox", "state": "%s", "rootfs": {"backing": "btrfs"}},
    "%s": {"rootfs": {"clone_from": "%s"}, "state": "%s",
           "config": {"lxc.init.cmd": "/bin/sleep 1000000", "lxc.signal.halt": "9"}}}}}}\n' "$G" "$1" "$C" "$G" "$2"
}
state stopped running >"$WORK/clone.json"
expect_rc 0 opl apply "$WORK/clone.json"
expect_contains "+ lxc container $C (create)"
btrfs subvolume show "$LXC_PATH/$G/rootfs" >/dev/null 2>&1 || fail "the golden root filesystem is not a subvolume"
golden_uuid=$(btrfs subvolume show "$LXC_PATH/$G/rootfs" | awk '$1 == "UUID:" {print $2}')
parent=$(btrfs subvolume show "$LXC_PATH/$C/rootfs" | awk '$1 == "Parent" && $2 == "UUID:" {print $3}')
[ "$parent" = "$golden_uuid" ] || fail "the clone is not a snapshot of the golden subvolume ($parent vs $golden_uuid)"
[ "$(lxcns lxc-info -P "$LXC_PATH" -n "$C" -s -H)" = RUNNING ] || fail "the clone is not running"
opl query -p lxc | jq -e --arg c "$C" '.plugins.lxc.containers[$c].rootfs.backing == "btrfs"' >/dev/null ||
  fail "query does not report the btrfs backing"
expect_rc 0 opl apply "$WORK/clone.json"
expect_contains "No changes"

printf '{"version": 1, "plugins": {"lxc": {"containers": {"%s": {"state": "absent"}}}}}\n' "$C" >"$WORK/gone.json"
expect_rc 0 opl apply "$WORK/gone.json"
[ ! -e "$LXC_PATH/$C" ] || fail "the clone's directory is left"
btrfs subvolume show "$LXC_PATH/$G/rootfs" >/dev/null 2>&1 || fail "destroying the clone took the golden subvolume"
echo "PASS: $TEST_NAME"
