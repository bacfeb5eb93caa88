#!/bin/bash
# The dbus plugin against our own test service on a private bus: discover finds every method and
# property with its signature; writable properties of every marshalling type are set through
# Properties.Set and read back (busctl is the oracle); a second apply is a no-op; read-only and
# unknown properties and ill-typed values are refused at validation, pointing at the line;
# rollback restores the previous values.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v busctl >/dev/null || skip "busctl (used as the test oracle) is not installed"
start_private_bus
start_test_service org.opdbus.TestService

bus() { "$OPDBUS" --bus "$BUS" --state-dir "$STATE" "$@"; }
prop() { busctl --address="$BUS" get-property org.opdbus.TestService /org/opdbus/Test org.opdbus.Test1 "$1"; }

expect_rc 0 bus --json discover
jq -e '.services[] | select(.name == "org.opdbus.TestService") | .objects["/org/opdbus/Test"]["org.opdbus.Test1"]
  | .properties.Labels.type == "a{ss}" and .properties.Pair.type == "(si)"
    and .properties.Version.access == "read" and .properties.Name.access == "readwrite"
    and .methods.Add.in == [{"name": "a", "type": "i"}, {"name": "b", "type": "i"}]
    and .methods.Add.out == [{"name": "sum", "type": "i"}]' <<<"$OUT" >/dev/null ||
  fail "discover did not report the test service's members with their signatures"

expect_rc 0 bus query -p dbus
jq -e '.plugins.dbus["org.opdbus.TestService"]["/org/opdbus/Test"]["org.opdbus.Test1"]
  | .Name == "initial" and .Version == "1.0" and .Labels == {"k": "v"}' <<<"$OUT" >/dev/null ||
  fail "query did not read the service's properties"

write_state "$WORK/set.json" <<'EOF2'
{"version": 1, "plugins": {"dbus": {"org.opdbus.TestService": {"/org/opdbus/Test": {"org.opdbus.Test1": {
  "Name": "declared", "Count": -42, "Small": 255, "Big": "18446744073709551615", "Ratio": 2.25,
  "Enabled": true, "Tags": ["x", "y"], "Labels": {"a": "1", "b": "2"}, "Pair": ["p", 9],
  "Anything": {"signature": "i", "value": 5}, "Target": "/org/opdbus/Other", "Bytes": [0, 255]}}}}}}
EOF2
expect_rc 0 bus apply "$WORK/set.json"
expect_contains "verified"
[ "$(prop Name)" = 's "declared"' ] || fail "Name: $(prop Name)"
[ "$(prop Count)" = 'i -42' ] || fail "Count: $(prop Count)"
[ "$(prop Small)" = 'y 255' ] || fail "Small: $(prop Small)"
[ "$(prop Big)" = 't 18446744073709551615' ] || fail "Big: $(prop Big)"
[ "$(prop Ratio)" = 'd 2.25' ] || fail "Ratio: $(prop Ratio)"
[ "$(prop Enabled)" = 'b true' ] || fail "Enabled: $(prop Enabled)"
[ "$(prop Tags)" = 'as 2 "x" "y"' ] || fail "Tags: $(prop Tags)"
[ "$(prop Labels)" = 'a{ss} 2 "a" "1" "b" "2"' ] || fail "Labels: $(prop Labels)"
[ "$(prop Pair)" = '(si) "p" 9' ] || fail "Pair: $(prop Pair)"
[ "$(prop Anything)" = 'v i 5' ] || fail "Anything: $(prop Anything)"
[ "$(prop Target)" = 'o "/org/opdbus/Other"' ] || fail "Target: $(prop Target)"
[ "$(prop Bytes)" = 'ay 2 0 255' ] || fail "Bytes: $(prop Bytes)"

write_state "$WORK/plain.json" <<'EOF2'
{"version": 1, "plugins": {"dbus": {"org.opdbus.TestService": {"/org/opdbus/Test": {"org.opdbus.Test1": {
  "Name": "declared", "Count": -42, "Labels": {"a": "1", "b": "2"}, "Pair": ["p", 9], "Anything": 5}}}}}}
EOF2
expect_rc 0 bus apply "$WORK/plain.json"
expect_contains "No changes"

write_state "$WORK/next.json" <<'EOF2'
{"version": 1, "plugins": {"dbus": {"org.opdbus.TestService": {"/org/opdbus/Test": {"org.opdbus.Test1": {
  "Name": "next", "Count": 7}}}}}}
EOF2
expect_rc 0 bus apply "$WORK/next.json"
expect_contains "Name"
expect_contains "declared -> next"
expect_rc 0 bus rollback
[ "$(prop Name)" = 's "declared"' ] || fail "rollback did not restore Name: $(prop Name)"
[ "$(prop Count)" = 'i -42' ] || fail "rollback did not restore Count: $(prop Count)"

write_state "$WORK/bad.json" <<'EOF2'
{"version": 1, "plugins": {"dbus": {"org.opdbus.TestService": {"/org/opdbus/Test": {"org.opdbus.Test1": {
  "Version": "2.0",
  "Count": "many",
  "Small": 256,
  "Big": 18446744073709551615,
  "Colour": "red"}}}}}}
EOF2
expect_rc 2 bus apply "$WORK/bad.json"
expect_contains "bad.json:2:"
expect_contains "org.opdbus.Test1.Version is read-only (access 'read'); only writable properties can be declared"
expect_contains "bad.json:3:"
expect_contains "not a valid 'i' for Count"
expect_contains "not a valid 'y' for Small"
expect_contains "Big holds an integer beyond +-2^53, which JSON cannot carry exactly; write it as a decimal string"
expect_contains "org.opdbus.Test1 has no property Colour (properties: Anything, Big, Bytes"
[ "$(prop Name)" = 's "declared"' ] || fail "a refused file changed the service"

write_state "$WORK/gone.json" <<'EOF2'
{"version": 1, "plugins": {"dbus": {"org.opdbus.NotHere": {"/": {"org.opdbus.X": {"Y": 1}}}}}}
EOF2
expect_rc 2 bus apply "$WORK/gone.json"
expect_contains "org.opdbus.NotHere"
echo "PASS: $TEST_NAME"
