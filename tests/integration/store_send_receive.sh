#!/bin/bash
# Replication between two real BTRFS loop filesystems: `snapshot send --to` sends every state
# snapshot and the ledger (full first, incremental afterwards), the replica's ledger verifies with
# the source's public key, received snapshots are read-only and identical to the source's, and a
# stream sent to a file is received into a second replica with `snapshot receive`.
. "$(dirname "$0")/common.inc"
mount_btrfs "$WORK/a"
mount_btrfs "$WORK/b"
STATE=$WORK/a/state
REPLICA=$WORK/b/replica

write_state "$WORK/s1.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [{"name": "rp0", "type": "bridge", "mtu": 1400}]}}}
JSON
write_state "$WORK/s2.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [{"name": "rp0", "type": "bridge", "mtu": 1300}]}}}
JSON

expect_rc 0 op apply "$WORK/s1.json"
op ledger pubkey > "$WORK/source.pub"
expect_rc 0 op snapshot send --to "$REPLICA"
expect_contains "(full)"
expect_contains "verified"
expect_rc 0 op apply "$WORK/s2.json"
expect_rc 0 op snapshot send --to "$REPLICA"
expect_contains "incremental from"

expect_rc 0 "$OPDBUS" --state-dir "$REPLICA" ledger verify --pubkey "$WORK/source.pub"
source_blocks=$(op ledger log -n 1000 --json | jq length)
replica_blocks=$("$OPDBUS" --state-dir "$REPLICA" ledger log -n 1000 --json | jq length)
[ "$replica_blocks" -ge 2 ] && [ "$replica_blocks" -lt "$source_blocks" ] ||
  fail "replica has $replica_blocks blocks, source $source_blocks (the send block comes after)"
for snapshot in "$STATE"/.snapshots/*; do
  name=$(basename "$snapshot")
  cmp "$snapshot/net.json" "$REPLICA/.snapshots/$name/net.json" || fail "snapshot $name differs"
  ! touch "$REPLICA/.snapshots/$name/x" 2>/dev/null || fail "received snapshot $name is writable"
done

op snapshot send > "$WORK/stream" || fail "snapshot send to a file failed"
expect_rc 0 "$OPDBUS" snapshot receive "$WORK/b/second" < "$WORK/stream"
expect_rc 0 "$OPDBUS" --state-dir "$WORK/b/second" ledger verify --pubkey "$WORK/source.pub"
expect_rc 2 "$OPDBUS" snapshot receive "$WORK/b/third" < /dev/null
expect_contains "ended early"
expect_rc 2 "$OPDBUS" snapshot receive "$WORK/plain" < "$WORK/stream"
expect_contains "not on a BTRFS"
echo "PASS: $TEST_NAME"
