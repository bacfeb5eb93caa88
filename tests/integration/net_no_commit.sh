#!/bin/bash
# apply --no-commit --timeout S: reverted by a detached watchdog after S seconds unless
# `op-dbus commit` runs, even though the applying process has exited; commit keeps it.
. "$(dirname "$0")/common.inc"

write_state "$WORK/s.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "wd0", "type": "bridge", "ipv4": {"address": [{"ip": "10.70.0.1", "prefix": 24}]}}]}}}
JSON

expect_rc 0 op apply "$WORK/s.json" --no-commit --timeout 2
expect_contains "Run 'op-dbus commit' before"
nsip link show wd0 >/dev/null || fail "wd0 not created"
expect_rc 5 op apply "$WORK/s.json"
expect_contains "awaiting commit"
for _ in $(seq 60); do nsip link show wd0 >/dev/null 2>&1 || break; sleep 0.1; done
! nsip link show wd0 2>/dev/null || fail "wd0 not reverted after the timeout"
expect_rc 1 op commit
expect_contains "already rolled back"

expect_rc 0 op apply "$WORK/s.json" --no-commit --timeout 2
expect_rc 0 op commit
expect_contains "Committed"
sleep 2.5
nsip link show wd0 >/dev/null || fail "committed change was reverted"
expect_rc 0 op apply "$WORK/s.json"
expect_contains "No changes"

# rollback of a pending change reverts it at once.
write_state "$WORK/s2.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [{"name": "wd0", "state": "absent"}]}}}
JSON
expect_rc 0 op apply "$WORK/s2.json" --no-commit --timeout 30
! nsip link show wd0 2>/dev/null || fail "wd0 not removed"
expect_rc 0 op rollback
nsip -j addr show wd0 | jq -e '.[0].addr_info[] | select(.local=="10.70.0.1")' >/dev/null || fail "wd0 not restored"
[ ! -f "$STATE/checkpoints/pending.json" ] || fail "pending checkpoint left behind"
echo "PASS: $TEST_NAME"
