#!/bin/bash
# `op-dbus compliance report|verify` on a real history: an apply, the daemon restoring a bridge
# deleted behind its back, snapshots on BTRFS sent to a replica. Every SOC 2 control passes
# (exit 0) with the apply, the drift and its repair cited; a period without replication fails
# A1.2 (exit 2); the report is recorded in the ledger; each form (JSON, HTML, OSCAL) verifies
# offline against an export and the public key, and fails to once the report file, the ledger or
# the key is not the one it was made with. Bad arguments are errors (exit 1) and record nothing.
# The daemon runs its compliance check policy at start and records the results, which the SOC 2
# report counts for the control the check maps to; `compliance check` by hand exits 2 on a
# failing check and 1 on a policy mistake, naming its line.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
mount_btrfs "$WORK/a"
mount_btrfs "$WORK/b"
STATE=$WORK/a/state
nsip link set lo up
write_state "$WORK/state.json" <<'JSON'
{"version": 1, "plugins": {"net": {"interfaces": [{"name": "odt-c0", "type": "bridge", "state": "up"}]}}}
JSON
expect_rc 0 op apply "$WORK/state.json"

cat >"$WORK/checks.yaml" <<'YAML'
checks:
  - id: bridges-up
    controls: {soc2: [CC8.1]}
    query: net
    select: /interfaces
    where: {type: {equals: bridge}}
    expect: {state: {equals: up}}
  - id: ledger-verified
    controls: {hipaa: ["164.312(c)(1)"]}
    query: ledger
    expect: {verified: {equals: true}, last_verified: {within: 24h}}
YAML
echo "{\"compliance\": {\"checks\": \"$WORK/checks.yaml\", \"interval\": 3600}}" >"$WORK/config.json"
"$OPDBUS" --netns "$NS" --state-dir "$STATE" --bus "unix:path=$WORK/no-bus" run \
  --state-file "$WORK/state.json" --snapshot-interval 0 --config "$WORK/config.json" >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 5")
count() { op --json ledger log -n 1000000 2>/dev/null | jq "[.[] | select($1)] | length"; }
blocks() { [ "$(count "$1")" -ge "$2" ]; }
wait_for 10 blocks '.action == "daemon.start"' 1 || fail "no daemon.start block: $(cat "$WORK/daemon.log")"
nsip link del odt-c0
wait_for 5 blocks '.action == "reconcile" and .result.outcome == "applied"' 1 ||
  fail "the deleted bridge was not restored: $(cat "$WORK/daemon.log")"
wait_for 5 blocks '.action == "compliance.check" and .after.summary == {"pass": 2, "fail": 0, "error": 0}' 1 ||
  fail "the daemon did not run its compliance checks: $(cat "$WORK/daemon.log")"
stop_pid $DAEMON 5
expect_rc 0 op snapshot send --to "$WORK/b/replica"

# compliance check by hand: a failing check exits 2, a policy mistake 1 with its line.
cat >"$WORK/mtu.yaml" <<'YAML'
checks:
  - id: jumbo-bridges
    query: net
    select: /interfaces
    where: {name: {equals: odt-c0}}
    expect: {mtu: {greater_than: 8000}}
YAML
expect_rc 2 op compliance check "$WORK/mtu.yaml"
expect_contains "fail   jumbo-bridges: odt-c0: mtu is 1500 (expected greater_than 8000)"
sed -i 's/greater_than/greater/' "$WORK/mtu.yaml"
expect_rc 1 op compliance check "$WORK/mtu.yaml"
expect_contains "mtu.yaml:6:20: /checks/0/expect/mtu/greater: unknown operator"

expect_rc 0 op compliance report --framework soc2 -o "$WORK/soc2.json"
jq -e '.summary == {"result": "pass", "pass": 5, "fail": 0, "not_applicable": 0}' "$WORK/soc2.json" \
  >/dev/null || fail "SOC 2 did not pass: $(jq -c '.controls[] | [.id, .status, .reason]' "$WORK/soc2.json")"
jq -e '([.blocks[] | select(.action == "apply" and .actor.interface == "cli")] | length == 1)
  and ([.blocks[] | select(.action == "drift")] | length == 1)
  and (.controls[] | select(.id == "CC7.2") | .evidence[0].details.events[0].handled | startswith("restored by block"))
  and (.ledger.proof | type == "array")' "$WORK/soc2.json" >/dev/null ||
  fail "the evidence is not cited: $(jq -c .blocks "$WORK/soc2.json")"
jq -e '.controls[] | select(.id == "CC8.1") | .evidence[-1] | .kind == "policy_checks"
  and .status == "pass" and (.reason | contains("(bridges-up)"))' "$WORK/soc2.json" >/dev/null ||
  fail "the daemon's check is not evidence for CC8.1: $(jq -c '.controls[] | select(.id == "CC8.1")' "$WORK/soc2.json")"

since=$(date -u -d '+1 second' +%Y-%m-%dT%H:%M:%SZ)
sleep 1.2
expect_rc 2 op compliance report --framework soc2 --since "$since" --format html -o "$WORK/soc2.html"
grep -q 'Some controls fail' "$WORK/soc2.html" || fail "the HTML report does not say a control fails"
expect_rc 0 op compliance report --framework hipaa --format oscal -o "$WORK/hipaa.oscal.json"
expect_rc 0 op compliance report --framework pci-dss -o "$WORK/pci.json"
[ "$(count '.action == "compliance.report"')" = 4 ] || fail "each report is not recorded in the ledger"

op ledger export -o "$WORK/export.jsonl" >/dev/null
op ledger pubkey >"$WORK/key.pub"
for report in soc2.json soc2.html hipaa.oscal.json pci.json; do
  expect_rc 0 "$OPDBUS" compliance verify "$WORK/$report" --export "$WORK/export.jsonl" --pubkey "$WORK/key.pub"
  expect_contains "The report verifies."
done

sed 's/Some controls fail/All controls pass/' "$WORK/soc2.html" >"$WORK/edited.html"
expect_rc 1 "$OPDBUS" compliance verify "$WORK/edited.html" --export "$WORK/export.jsonl" --pubkey "$WORK/key.pub"
expect_contains "changed after it was written"
jq '.controls[0].reason = "all good"' "$WORK/pci.json" >"$WORK/edited.json"
expect_rc 1 "$OPDBUS" compliance verify "$WORK/edited.json" --export "$WORK/export.jsonl" --pubkey "$WORK/key.pub"
expect_contains "changed after it was signed"
"$OPDBUS" --state-dir "$WORK/other" compliance report --framework soc2 >/dev/null 2>&1 || true
"$OPDBUS" --state-dir "$WORK/other" ledger pubkey >"$WORK/other.pub"
expect_rc 1 "$OPDBUS" compliance verify "$WORK/pci.json" --export "$WORK/export.jsonl" --pubkey "$WORK/other.pub"

# Tampering with the ledger after the report: an edited block no longer verifies.
sed -i '1s/"user":"root"/"user":"r00t"/' "$STATE/ledger/blocks.jsonl"
op ledger export -o "$WORK/tampered.jsonl" >/dev/null
expect_rc 1 "$OPDBUS" compliance verify "$WORK/soc2.json" --export "$WORK/tampered.jsonl" --pubkey "$WORK/key.pub"
expect_contains "block 0 was altered"

blocks_before=$(wc -l <"$STATE/ledger/blocks.jsonl")
expect_rc 1 op compliance report --framework iso27001
expect_contains "unknown framework 'iso27001'"
expect_rc 1 op compliance report --framework soc2 --since yesterday
expect_contains "--since (an RFC 3339 time)"
expect_rc 1 op compliance report --framework soc2 --format pdf
[ "$(wc -l <"$STATE/ledger/blocks.jsonl")" = "$blocks_before" ] || fail "a refused report was recorded"
echo "PASS: $TEST_NAME"
