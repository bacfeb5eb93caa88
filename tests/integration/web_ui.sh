#!/bin/bash
# The web UI (web/) served by `op-dbus mcp serve --http` and driven in headless Chromium with
# playwright-core (tests/node/web_ui.mjs): a query shows the namespace's state, a retention change
# asks for confirmation and, once confirmed, is in the ledger with the token's identity; a
# (stand-in) OpenAI-compatible model drives the same tools through tool calling.
# Screenshots are kept in the build's test-artifacts/ directory.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/node.inc"
[ -x /usr/bin/chromium ] || skip "Debian's chromium is not installed"
ARTIFACTS=${OPDBUS_ARTIFACTS:-$WORK/artifacts}
mkdir -p "$ARTIFACTS"
nsip link set lo up
nsip link add odt-web0 type bridge
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$WORK/mcp.json" <<EOF2
{"tokens": {"web-user": {"token_sha256": "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)", "access": "write"}}}
EOF2
start_mcp_http URL "$OPDBUS" --state-dir "$STATE" mcp serve --http 127.0.0.1:0 \
  --config "$WORK/mcp.json" --web "$(dirname "$0")/../../web"
in_ns "$NODE22" "$NODE_DIR/web_ui.mjs" "${URL%mcp}" "$TOKEN" odt-web0 "$ARTIFACTS" \
  >"$WORK/web.json" 2>"$WORK/web.err" || fail "browser test: $(cat "$WORK/web.err" "$WORK/web.json")"
jq -e '(.question | test("hourly=10")) and (.feed | map(test("retention.set")) | any)
  and (.modelAnswer | test("odt-web0"))' "$WORK/web.json" \
  >/dev/null || fail "unexpected page content: $(cat "$WORK/web.json")"
op ledger log --json -n 1000000 >"$WORK/ledger.json"
jq -e '[.[] | select(.action == "retention.set" and .after.hourly == 10
  and .actor.interface == "mcp:op-dbus-web" and .actor.user == "token:web-user")] | length == 1' \
  "$WORK/ledger.json" >/dev/null || fail "the confirmed change is not in the ledger: $(cat "$WORK/ledger.json")"
ls "$ARTIFACTS"/web-*.png >/dev/null || fail "no screenshots"
echo "PASS: $TEST_NAME (screenshots in $ARTIFACTS)"
