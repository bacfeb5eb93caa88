#!/bin/bash
# The ledger end to end: apply, no-change apply, rollback, --no-commit expiry and commit each
# append one block; log/show/export; verify locally and offline from an export with a trusted
# key; inclusion and consistency proofs checked offline; and the tamper cases verify must catch
# from the command line (flipped byte, rolled-back copy, another key), each exiting 1.
. "$(dirname "$0")/common.inc"

blocks() { op ledger log -n 100000 --json | jq length; }
last_block() { op ledger log -n 1 --json | jq -c ".[0] | $1"; }

write_state "$WORK/a.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "lg0", "type": "bridge", "mtu": 1400, "ipv4": {"address": [{"ip": "10.80.0.1", "prefix": 24}]}}]}}}
JSON
write_state "$WORK/b.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [{"name": "lg0", "type": "bridge", "mtu": 1300}]}}}
JSON

expect_rc 0 op apply "$WORK/a.json"
[ "$(last_block .action)" = '"apply"' ] || fail "apply not recorded"
[ "$(last_block .result.outcome)" = '"applied"' ] || fail "outcome not recorded"
[ "$(last_block '.after.net.interfaces.lg0.mtu')" = 1400 ] || fail "after-state not recorded"
[ "$(last_block .actor.interface)" = '"cli"' ] || fail "actor not recorded"
snapshot=$(op ledger log -n 1 --json | jq -r '.[0].refs.snapshot')
jq -e '.interfaces[] | select(.name == "lg0")' "$STATE/.snapshots/$snapshot/net.json" >/dev/null ||
  fail "no state snapshot (a read-only copy off BTRFS) named by the apply block"
expect_rc 0 op apply "$WORK/a.json"
[ "$(last_block .result.outcome)" = '"no_changes"' ] || fail "no-change apply not recorded"
op ledger checkpoint > "$WORK/checkpoint-2"
expect_rc 0 op apply "$WORK/b.json"
[ "$(last_block '.before.net.interfaces.lg0.mtu')" = 1400 ] || fail "before-state not recorded"
expect_rc 0 op rollback
[ "$(last_block .action)" = '"rollback"' ] || fail "rollback not recorded"
[ "$(nsip -j link show lg0 | jq '.[0].mtu')" = 1400 ] || fail "rollback did not restore mtu"

expect_rc 0 op apply "$WORK/b.json" --no-commit --timeout 1
for _ in $(seq 50); do [ "$(last_block .action)" = '"rollback"' ] && break; sleep 0.1; done
[ "$(last_block .result.reason)" = '"not committed before the deadline"' ] || fail "expiry not recorded"
expect_rc 0 op apply "$WORK/b.json" --no-commit --timeout 30
expect_rc 0 op commit
[ "$(last_block .action)" = '"commit"' ] || fail "commit not recorded"
[ "$(blocks)" = 8 ] || fail "expected 8 blocks, got $(blocks)"

expect_rc 0 op ledger log
expect_contains "commit"
expect_rc 0 op ledger log --plugin net --since 2000-01-01T00:00:00Z -n 2
expect_rc 2 op ledger log --since yesterday
expect_contains "RFC 3339"
expect_rc 0 op ledger show 0
expect_contains '"height": 0'
expect_rc 2 op ledger show 99
expect_contains "no block 99"

# Verification, locally and offline with a key kept elsewhere.
op ledger pubkey > "$WORK/trusted.pub"
expect_rc 0 op ledger verify
expect_contains "8 blocks"
expect_rc 0 op ledger export -o "$WORK/export.jsonl"
expect_rc 0 op ledger verify --from "$WORK/export.jsonl" --pubkey "$WORK/trusted.pub" \
  --checkpoint "$WORK/checkpoint-2"
expect_contains "consistent with 1 known checkpoint"

# Proofs, checked offline against signed checkpoints.
op ledger proof inclusion 3 > "$WORK/inclusion.json"
expect_rc 0 op ledger verify-proof "$WORK/inclusion.json" --pubkey "$WORK/trusted.pub"
expect_contains "block 3"
op ledger proof consistency 2 > "$WORK/consistency.json"
op ledger checkpoint > "$WORK/checkpoint-8"
expect_rc 0 op ledger verify-proof "$WORK/consistency.json" --old-checkpoint "$WORK/checkpoint-2" \
  --checkpoint "$WORK/checkpoint-8" --pubkey "$WORK/trusted.pub"
jq '.proof[0] = "00\(.proof[0][2:])"' "$WORK/inclusion.json" > "$WORK/forged.json"
expect_rc 1 op ledger verify-proof "$WORK/forged.json" --pubkey "$WORK/trusted.pub"

# Tampering: one flipped byte inside block 4.
cp -a "$STATE" "$WORK/pristine"
offset=$(( $(head -n 4 "$STATE/ledger/blocks.jsonl" | wc -c) + 40 ))
printf 'X' | dd of="$STATE/ledger/blocks.jsonl" bs=1 seek="$offset" conv=notrunc status=none
expect_rc 1 op ledger verify
expect_contains "height 4"
expect_rc 1 op ledger verify --json
[ "$(printf '%s' "$OUT" | jq .ok)" = false ] || fail "--json failure lacks ok:false"

# A rolled-back copy of the ledger is caught against a later checkpoint it no longer contains.
rm -rf "$STATE" && cp -a "$WORK/pristine" "$STATE"
head -n 2 "$STATE/ledger/blocks.jsonl" > "$WORK/two" && mv "$WORK/two" "$STATE/ledger/blocks.jsonl"
cp "$WORK/checkpoint-2" "$STATE/ledger/checkpoint"
rm "$STATE/ledger/head.json"
expect_rc 0 op ledger verify --pubkey "$WORK/trusted.pub"
expect_rc 1 op ledger verify --pubkey "$WORK/trusted.pub" --checkpoint "$WORK/checkpoint-8"
expect_contains "rolled back"

# A checkpoint from another key does not verify against the trusted one.
"$OPDBUS" --state-dir "$WORK/other" --netns "$NS" apply "$WORK/a.json" >/dev/null
expect_rc 1 "$OPDBUS" --state-dir "$WORK/other" ledger verify --pubkey "$WORK/trusted.pub"
expect_contains "not signed by"
# Sealing: the blocks so far move to a read-only segment, the rest is anchored at the last signed
# checkpoint; everything still verifies, and the current segment verifies alone once archived.
rm -rf "$STATE" && cp -a "$WORK/pristine" "$STATE"
expect_rc 0 op ledger seal
expect_contains "Sealed"
expect_rc 0 op apply "$WORK/a.json"
expect_rc 0 op ledger verify --pubkey "$WORK/trusted.pub" --checkpoint "$WORK/checkpoint-8"
expect_rc 0 op ledger show 2
op ledger proof inclusion 2 > "$WORK/sealed-inclusion.json"
expect_rc 0 op ledger verify-proof "$WORK/sealed-inclusion.json" --pubkey "$WORK/trusted.pub"
op ledger export -o "$WORK/sealed-export.jsonl"
expect_rc 0 op ledger verify --from "$WORK/sealed-export.jsonl" --pubkey "$WORK/trusted.pub"
mv "$STATE/ledger/segments" "$WORK/archived"
expect_rc 0 op ledger verify --pubkey "$WORK/trusted.pub"
expect_contains "archived"
expect_rc 2 op ledger show 2
expect_contains "archived"
op ledger export -o "$WORK/anchored-export.jsonl"
expect_rc 0 op ledger verify --from "$WORK/anchored-export.jsonl" --pubkey "$WORK/trusted.pub"
expect_contains "anchor"
echo "PASS: $TEST_NAME"
