#!/bin/bash
# Every write path tried as an unprivileged user and as root, each outcome checked on the host
# and in the ledger. CLI: root applies; "nobody" is refused (exit 7) by the daemon, which polkit
# backs, unless nobody is in the daemon's configured writer group, when the daemon applies for
# them; other writes (snapshot create, --netns) and applies with no daemon to ask are refused and
# noted, and the note becomes a ledger block with nobody's uid. D-Bus: busctl as nobody is
# refused and recorded. MCP and the web UI: no token and an unknown token get 401, a foreign
# Origin 403, a read-only token calling apply is refused; each refusal is recorded; the write
# token applies, recorded with its name.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v setpriv >/dev/null || skip "setpriv is not installed"
command -v curl >/dev/null || skip "curl is not installed"
getent passwd nobody >/dev/null || skip "the user nobody is needed"
NOBODY=$(id -u nobody)
GROUP=4242  # the writer group, given to nobody by setpriv only (no /etc/group change)
chmod 711 "$WORK"
start_private_bus
start_polkit 'polkit.addRule(function(action, subject) { return polkit.Result.NOT_HANDLED; });'
nsip link set lo up
bridge() { printf '{"version": 1, "plugins": {"net": {"interfaces": [{"name": "%s", "type": "bridge", "state": "up"}]}}}\n' "$1" >"$WORK/$1.json"; chmod 644 "$WORK/$1.json"; }
for name in odt-root odt-nobody odt-group odt-offline odt-reader odt-writer; do bridge $name; done
echo "{\"access\": {\"group\": $GROUP}}" >"$WORK/config.json"

# as_nobody [--group] OPDBUS-ARGS...: op-dbus as nobody (with the writer group), output in $OUT.
as_nobody() {
  local groups=--clear-groups
  [ "$1" = --group ] && { groups=--groups=$GROUP; shift; }
  local rc=0
  OUT=$(setpriv --reuid="$NOBODY" --regid="$(id -g nobody)" "$groups" \
    "$OPDBUS" --bus "$BUS" --state-dir "$STATE" "$@" 2>&1) || rc=$?
  return $rc
}
ledger() { "$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000; }
recorded() { ledger | jq -e "[.[] | select($1)] | length >= ${2:-1}" >/dev/null; }

expect_rc 0 op apply "$WORK/odt-root.json"
nsip link show odt-root >/dev/null || fail "root's apply did not create the bridge"
ls -ld "$STATE" | grep -q '^drwx--x--x' || fail "the state directory is not 0711: $(ls -ld "$STATE")"
ls -ld "$STATE/denied" | grep -q '^drwx-wx-wt' || fail "the refusal spool is not 1733: $(ls -ld "$STATE/denied")"

"$OPDBUS" --bus "$BUS" --netns "$NS" --state-dir "$STATE" run --config "$WORK/config.json" \
  --snapshot-interval 0 >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 10")
owned() { [ -n "$(bus_name_pid org.opdbus)" ]; }
wait_for 10 owned || fail "op-dbus run did not own org.opdbus: $(cat "$WORK/daemon.log")"

# CLI as nobody: refused by the daemon (polkit says no), recorded by the daemon.
rc=0; as_nobody apply "$WORK/odt-nobody.json" || rc=$?
[ $rc = 7 ] || fail "nobody's apply exited $rc, not 7 (not authorised): $OUT"
case "$OUT" in *"not authorised: the daemon refused"*) ;; *) fail "nobody's apply: $OUT" ;; esac
as_nobody commit && fail "nobody's commit was allowed: $OUT"
nsip link show odt-nobody >/dev/null 2>&1 && fail "nobody's bridge exists"
recorded ".action == \"Apply.denied\" and .actor.uid == $NOBODY" || fail "nobody's refusal is not recorded"
recorded ".action == \"Commit.denied\" and .actor.uid == $NOBODY" || fail "nobody's commit refusal is not recorded"

# CLI as nobody in the writer group: the daemon applies, recorded with nobody's uid.
as_nobody --group apply "$WORK/odt-group.json" || fail "the writer group's apply failed: $OUT"
case "$OUT" in *"Applied by the op-dbus daemon: applied"*) ;; *) fail "group apply: $OUT" ;; esac
nsip link show odt-group >/dev/null || fail "the group member's bridge was not created"
recorded ".action == \"apply\" and .actor.uid == $NOBODY and .actor.interface == \"dbus\"" ||
  fail "the group member's apply is not recorded with their uid"

# Writes the daemon does not take: refused here, noted, recorded by the daemon at once.
rc=0; as_nobody snapshot create || rc=$?
[ $rc = 7 ] || fail "nobody's snapshot create exited $rc: $OUT"
case "$OUT" in *"needs root; the attempt is recorded"*) ;; *) fail "nobody's snapshot create: $OUT" ;; esac
rc=0; as_nobody --netns "$NS" apply "$WORK/odt-nobody.json" || rc=$?
[ $rc = 7 ] || fail "nobody's --netns apply exited $rc: $OUT"
wait_for 5 recorded ".action == \"cli.snapshot.create.denied\" and .actor.uid == $NOBODY" ||
  fail "the noted snapshot refusal did not reach the ledger: $(ledger | jq -c '.[0:3]')"
wait_for 5 recorded ".action == \"cli.apply.denied\" and .actor.uid == $NOBODY and (.result.reason | contains(\"--netns needs root\"))" ||
  fail "the noted --netns refusal did not reach the ledger"

# D-Bus directly: nobody's Apply refused and recorded.
rc=0
setpriv --reuid="$NOBODY" --regid="$(id -g nobody)" --clear-groups busctl --address="$BUS" call \
  org.opdbus /org/opdbus/Manager1 org.opdbus.Manager1 Rollback >/dev/null 2>&1 || rc=$?
[ $rc != 0 ] || fail "nobody's D-Bus Rollback was allowed"
recorded ".action == \"Rollback.denied\" and .actor.uid == $NOBODY" || fail "the D-Bus refusal is not recorded"

stop_pid $DAEMON 10
# No daemon to ask: refused and noted; the next privileged op-dbus records it.
rc=0; as_nobody apply "$WORK/odt-offline.json" || rc=$?
[ $rc = 7 ] || fail "nobody's apply with no daemon exited $rc: $OUT"
case "$OUT" in *"needs root, or the op-dbus daemon on the bus"*) ;; *) fail "offline apply: $OUT" ;; esac
expect_rc 0 op apply "$WORK/odt-root.json"
recorded ".action == \"cli.apply.denied\" and .actor.uid == $NOBODY and .actor.user == \"nobody\" and (.result.reason | contains(\"daemon on the bus\"))" ||
  fail "the offline refusal was not recorded by root's next op-dbus"
[ -z "$(ls -A "$STATE/denied")" ] || fail "recorded notes were left in the spool: $(ls "$STATE/denied")"

# MCP over HTTP (the web UI's transport): tokens, per-tool policy, Origin.
READER=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
WRITER=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
cat >"$WORK/mcp.json" <<JSON
{"tokens": {"reader": {"token_sha256": "$(sha "$READER")", "access": "read"},
            "writer": {"token_sha256": "$(sha "$WRITER")", "access": "write", "tools": ["apply", "query_*"]}}}
JSON
ip netns exec "$NS" "$OPDBUS" --state-dir "$STATE" mcp serve --http 127.0.0.1:0 --config "$WORK/mcp.json" \
  >"$WORK/mcp.out" 2>"$WORK/mcp.err" &
MCP=$!
ON_EXIT+=("stop_pid $MCP 5")
wait_for 5 grep -q 'http://' "$WORK/mcp.out" "$WORK/mcp.err" || fail "mcp serve did not start: $(cat "$WORK/mcp.err")"
URL=$(cat "$WORK/mcp.out" "$WORK/mcp.err" | grep -o 'http://[^ ]*/mcp' | head -1)
# post TOKEN BODY [ORIGIN]: one JSON-RPC message; HTTP status in $STATUS, body in $BODY.
SESSION=""
post() {
  local headers=(-H 'Content-Type: application/json' -H 'Accept: application/json'
    -H 'MCP-Protocol-Version: 2025-11-25')
  [ -n "$1" ] && headers+=(-H "Authorization: Bearer $1")
  [ -n "$SESSION" ] && headers+=(-H "Mcp-Session-Id: $SESSION")
  [ -n "${3:-}" ] && headers+=(-H "Origin: $3")
  BODY=$(ip netns exec "$NS" curl -s -D "$WORK/headers" -o - -w '\n%{http_code}' "${headers[@]}" --data "$2" "$URL")
  STATUS=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
  SESSION=$(sed -n 's/^mcp-session-id: *\([^\r]*\).*/\1/Ip' "$WORK/headers" | head -1)
}
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"access-test","version":"1"}}}'
call_apply() { printf '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"apply","arguments":{"state":%s,"confirm":true}}}' "$(jq -c . "$WORK/$1.json")"; }

post "" "$INIT"; [ "$STATUS" = 401 ] || fail "no token: HTTP $STATUS"
SESSION=""; post "not-a-token" "$INIT"; [ "$STATUS" = 401 ] || fail "unknown token: HTTP $STATUS"
SESSION=""; post "$READER" "$INIT" "http://evil.example"; [ "$STATUS" = 403 ] || fail "foreign Origin: HTTP $STATUS"
SESSION=""; post "$READER" "$INIT" "${URL%/mcp}"; [ "$STATUS" = 200 ] || fail "reader initialize: HTTP $STATUS $BODY"
post "$READER" "$(call_apply odt-reader)" "${URL%/mcp}"
case "$BODY" in *"may only read"*) ;; *) fail "the reader's apply was not refused: $BODY" ;; esac
nsip link show odt-reader >/dev/null 2>&1 && fail "the reader's bridge exists"
SESSION=""; post "$WRITER" "$INIT"; [ "$STATUS" = 200 ] || fail "writer initialize: HTTP $STATUS"
post "$WRITER" "$(call_apply odt-writer)"
wait_for 5 nsip link show odt-writer >/dev/null || fail "the writer's apply did not create the bridge: $BODY"
stop_pid $MCP 5
recorded '.action == "mcp.apply.denied" and .actor.user == "token:reader"' ||
  fail "the reader's refusal is not recorded"
recorded '.action == "apply" and .actor.user == "token:writer" and (.actor.interface | startswith("mcp"))' ||
  fail "the writer's apply is not recorded with its token"
recorded '.action == "mcp.http.denied" and .actor.user == "unauthenticated" and (.result.reason | contains("a bearer token is required"))' ||
  fail "the request without a token is not recorded: $(ledger | jq -c '[.[] | select(.action == "mcp.http.denied")]')"
recorded '.action == "mcp.http.denied" and (.result.reason | test("earlier refusals|more refused requests"))' ||
  fail "refusals after the first in a minute are not accounted for: $(ledger | jq -c '[.[] | select(.action == "mcp.http.denied") | .result.reason]')"

# The compliance report sees the refusals and the group.
rc=0; op compliance report --framework soc2 -o "$WORK/soc2.json" || rc=$?
jq -e '(.controls[] | select(.id == "CC6.1") | .evidence[1].details.attempts) >= 6' "$WORK/soc2.json" >/dev/null ||
  fail "the report does not cite the refusals: $(jq -c '.controls[0]' "$WORK/soc2.json")"
echo "PASS: $TEST_NAME"
