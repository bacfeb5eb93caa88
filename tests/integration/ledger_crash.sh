#!/bin/bash
# kill -9 during a stream of durable appends from 8 writers, three times at random moments:
# every acknowledged block survives, the next open repairs whatever tail the crash left (and
# records a repair), and the ledger verifies. Then a torn partial line is repaired and recorded.
. "$(dirname "$0")/common.inc"
LOAD=${OPDBUS_LEDGER_LOAD:?set OPDBUS_LEDGER_LOAD to the opdbus-ledger-load binary}

count_blocks() { wc -l < "$STATE/ledger/blocks.jsonl"; }

for round in 1 2 3; do
  "$LOAD" append "$STATE" 100000000 8 --print-acks > "$WORK/acks-$round" 2>/dev/null &
  pid=$!
  sleep "0.$(( RANDOM % 6 + 3 ))"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  acked=$(sort -n "$WORK/acks-$round" | tail -n 1)
  [ -n "$acked" ] || fail "round $round: nothing was acknowledged"
  # Reopening (one more append) repairs and re-signs; then everything must verify.
  "$LOAD" append "$STATE" 1 1 2>/dev/null || fail "round $round: reopen after kill -9 failed"
  expect_rc 0 "$OPDBUS" --state-dir "$STATE" ledger verify
  blocks=$(count_blocks)
  [ "$blocks" -gt "$acked" ] || fail "round $round: block $acked was acknowledged but the ledger has $blocks"
  echo "round $round: killed after $acked acknowledged; $blocks blocks verify"
done

printf '{"action":"apply","actor":{"interface":"da' >> "$STATE/ledger/blocks.jsonl"
expect_rc 1 "$OPDBUS" --state-dir "$STATE" ledger verify
expect_contains "cut off"
"$LOAD" append "$STATE" 1 1 2>/dev/null
expect_rc 0 "$OPDBUS" --state-dir "$STATE" ledger verify
repair=$("$OPDBUS" --state-dir "$STATE" ledger log -n 2 --json | jq -r '.[1].action')
[ "$repair" = ledger.repair ] || fail "the repair was not recorded (got $repair)"
ls "$STATE"/ledger/torn-*.bin >/dev/null || fail "the torn bytes were not kept"
echo "PASS: $TEST_NAME"
