#!/bin/bash
# The hostname and timedate plugins against systemd-hostnamed and systemd-timedated, bus-activated
# on a private bus inside sandboxes (overlay /etc, own UTS namespace, no CAP_SYS_TIME): set the
# static and pretty hostname, chassis, location and the timezone; verify with busctl and the
# sandbox's files; a second apply is a no-op; rollback restores; read-only fields and bad values
# are refused. SetTime and SetLocalRTC are never called.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v busctl >/dev/null || skip "busctl (used as the test oracle) is not installed"
start_private_bus
activatable_sandboxed hostnamed org.freedesktop.hostname1
activatable_sandboxed timedated org.freedesktop.timedate1

bus() { "$OPDBUS" --bus "$BUS" --state-dir "$STATE" "$@"; }
get() { busctl --address="$BUS" get-property "org.freedesktop.$1" "/org/freedesktop/$1" "org.freedesktop.$1" "$2"; }

expect_rc 0 bus query -p hostname
jq -e '.plugins.hostname | has("static_hostname") and has("hostname") and has("chassis")' \
  <<<"$OUT" >/dev/null || fail "hostname query"
old_static=$(jq -r .plugins.hostname.static_hostname <<<"$OUT")
expect_rc 0 bus query -p timedate
old_zone=$(jq -r .plugins.timedate.timezone <<<"$OUT")
new_zone=Pacific/Chatham
[ "$old_zone" = "$new_zone" ] && new_zone=America/St_Johns

write_state "$WORK/host.json" <<EOF2
{"version": 1, "plugins": {
  "hostname": {"static_hostname": "odt-host", "pretty_hostname": "op-dbus test host",
               "chassis": "vm", "location": "rack 7"},
  "timedate": {"timezone": "$new_zone"}}}
EOF2
expect_rc 0 bus apply "$WORK/host.json"
expect_contains "verified"
[ "$(get hostname1 StaticHostname)" = 's "odt-host"' ] || fail "static hostname: $(get hostname1 StaticHostname)"
[ "$(get hostname1 PrettyHostname)" = 's "op-dbus test host"' ] || fail "pretty hostname"
[ "$(get hostname1 Chassis)" = 's "vm"' ] || fail "chassis"
[ "$(cat "$WORK/hostnamed/up/hostname")" = odt-host ] || fail "/etc/hostname in the sandbox"
[ "$(get timedate1 Timezone)" = "s \"$new_zone\"" ] || fail "timezone: $(get timedate1 Timezone)"
[ "$(readlink "$WORK/timedated/up/localtime")" = "../usr/share/zoneinfo/$new_zone" ] ||
  fail "/etc/localtime in the sandbox: $(readlink "$WORK/timedated/up/localtime")"
[ "$(cat /etc/hostname 2>/dev/null)" != odt-host ] || fail "the host's /etc/hostname was changed"

expect_rc 0 bus apply "$WORK/host.json"
expect_contains "No changes"

expect_rc 0 bus rollback
[ "$(get hostname1 StaticHostname)" = "s \"$old_static\"" ] || fail "rollback: $(get hostname1 StaticHostname)"
[ "$(get timedate1 Timezone)" = "s \"$old_zone\"" ] || fail "rollback: $(get timedate1 Timezone)"

write_state "$WORK/bad.json" <<'EOF2'
{"version": 1, "plugins": {
  "hostname": {"static_hostname": "-bad-", "hostname": "x"},
  "timedate": {"timezone": "Mars/Olympus_Mons", "ntp_synchronized": true}}}
EOF2
expect_rc 2 bus apply "$WORK/bad.json"
expect_contains "'-bad-' is not a valid hostname"
expect_contains "hostname is read-only"
expect_contains "unknown timezone 'Mars/Olympus_Mons'"
expect_contains "ntp_synchronized is read-only"
echo "PASS: $TEST_NAME"
