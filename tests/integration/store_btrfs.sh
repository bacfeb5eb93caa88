#!/bin/bash
# The state directory on a real BTRFS loop filesystem: ledger/, state/ and vectors/ become
# subvolumes; every apply takes a read-only snapshot of state/ named in its ledger block;
# rollback --to an earlier height restores the namespace exactly (what was created since is
# removed) and is itself recorded; retention set is recorded and prune keeps what the tiers say.
. "$(dirname "$0")/common.inc"
MNT=$WORK/btrfs
mount_btrfs "$MNT"
STATE=$MNT/state
last_block() { op ledger log -n 1 --json | jq -r ".[0] | $1"; }

write_state "$WORK/one.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "st0", "type": "bridge", "mtu": 1400, "ipv4": {"address": [{"ip": "10.90.0.1", "prefix": 24}]}},
  {"name": "stv0", "type": "veth", "veth": {"peer": "stv0-p"}, "master": "st0"}],
  "routes": [{"destination": "10.91.0.0/16", "gateway": "10.90.0.254"}]}}}
JSON
write_state "$WORK/two.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "st0", "type": "bridge", "mtu": 1300},
  {"name": "st1", "type": "bridge", "ipv4": {"address": [{"ip": "10.92.0.1", "prefix": 24}]}},
  {"name": "stv0", "state": "absent"}],
  "routes": [{"destination": "10.93.0.0/16", "dev": "st1"}]}}}
JSON

expect_rc 0 op apply "$WORK/one.json"
for volume in ledger state vectors; do
  [ "$(stat -c %i "$STATE/$volume")" = 256 ] || fail "$volume is not a BTRFS subvolume"
done
first=$(last_block .refs.snapshot)
[ -d "$STATE/.snapshots/$first" ] || fail "apply named snapshot '$first' but it does not exist"
[ "$(stat -c %i "$STATE/.snapshots/$first")" = 256 ] || fail "snapshot is not a subvolume"
! touch "$STATE/.snapshots/$first/x" 2>/dev/null || fail "snapshot is writable"
jq -e '.interfaces[] | select(.name == "st0")' "$STATE/.snapshots/$first/net.json" >/dev/null ||
  fail "snapshot lacks the applied state"
height=$(last_block .height)
fingerprint_one=$(state_fingerprint)

expect_rc 0 op apply "$WORK/two.json"
[ "$(last_block .refs.snapshot)" != "$first" ] || fail "second apply took no new snapshot"
[ "$(state_fingerprint)" != "$fingerprint_one" ] || fail "second apply changed nothing"

expect_rc 0 op rollback --to "$height"
expect_contains "verified"
[ "$(state_fingerprint)" = "$fingerprint_one" ] || fail "rollback --to $height did not restore the state exactly"
[ "$(last_block .action)" = rollback.to ] || fail "rollback --to not recorded"
[ "$(last_block .refs.to.snapshot)" = "$first" ] || fail "rollback --to does not name its snapshot"
expect_rc 0 op rollback --to "$first"
expect_contains "No changes"
expect_rc 2 op rollback --to 999
expect_contains "no block 999"
expect_rc 2 op rollback --to nosuchsnapshot
expect_contains "no snapshot"

# Retention: hourly=1 daily=1 keeps the first snapshot of this hour/day and the newest.
expect_rc 0 op retention set hourly=1 daily=1 weekly=0 quarterly=0
[ "$(last_block .action)" = retention.set ] || fail "retention change not recorded"
[ "$(last_block .after.hourly)" = 1 ] || fail "retention change lacks the new policy"
expect_rc 2 op retention set minutely=3
expect_rc 0 op snapshot create
count=$(find "$STATE/.snapshots" -mindepth 1 -maxdepth 1 | wc -l)
expect_rc 0 op snapshot prune --dry-run
expect_rc 0 op --json snapshot list
kept=$(printf '%s' "$OUT" | jq '[.snapshots[] | select(.kept_by | length > 0)] | length')
[ "$(find "$STATE/.snapshots" -mindepth 1 -maxdepth 1 | wc -l)" = "$count" ] || fail "dry run deleted"
expect_rc 0 op snapshot prune
left=$(find "$STATE/.snapshots" -mindepth 1 -maxdepth 1 | wc -l)
[ "$left" = "$kept" ] || fail "prune left $left snapshots, list said $kept are kept"
[ "$left" -le 2 ] || fail "hourly=1 daily=1 within one hour should keep at most 2, kept $left"

expect_rc 0 op ledger verify
echo "PASS: $TEST_NAME"
