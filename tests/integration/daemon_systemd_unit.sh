#!/bin/bash
# The shipped unit file (data/systemd/op-dbus.service.in) run by a real systemd: op-dbus starts
# as a hardened Type=notify service inside the container (the start job completes only after
# READY=1), applies /etc/op-dbus/state.json there, owns org.opdbus under the shipped bus policy,
# reports its status to systemd, reloads on `systemctl reload`, and stops cleanly.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
start_systemd_container
SOURCE=$(cd "$(dirname "$0")/../.." && pwd)

mkdir -p "$SD_ROOT/opt/op-dbus" "$SD_ROOT/etc/op-dbus" "$SD_ROOT/etc/dbus-1/system.d"
cp "$OPDBUS" "$SD_ROOT/opt/op-dbus/op-dbus"
sed 's|@CMAKE_INSTALL_FULL_BINDIR@|/opt/op-dbus|' "$SOURCE/data/systemd/op-dbus.service.in" \
  >"$SD_ROOT/etc/systemd/system/op-dbus.service"
cp "$SOURCE/data/dbus-1/system.d/org.opdbus.conf" "$SD_ROOT/etc/dbus-1/system.d/"
cat >"$SD_ROOT/etc/op-dbus/state.json" <<'EOF2'
{"version": 1, "plugins": {"systemd": {"units": {"odt-kept.service": {
  "unit_file": "[Service]\nExecStart=/bin/sleep infinity\n", "active_state": "active"}}}}}
EOF2

manager() {
  busctl --address="$SD_BUS" "$@"
}
manager call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
manager call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Reload
manager --timeout=60 call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
  org.freedesktop.systemd1.Manager StartUnit ss op-dbus.service replace >/dev/null
for _ in $(seq 200); do
  state=$(unit_property op-dbus.service ActiveState)
  [ "$state" = activating ] || break
  sleep 0.05
done
[ "$state" = active ] || fail "op-dbus.service is $state: $(nsenter -t "${SD_ROOT//[^0-9]/}" -a journalctl -u op-dbus -n 20 --no-pager 2>&1)"
path=$(manager call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
  org.freedesktop.systemd1.Manager GetUnit s op-dbus.service | sed 's/^o "\(.*\)"$/\1/')
status=$(manager get-property org.freedesktop.systemd1 "$path" org.freedesktop.systemd1.Service StatusText)
case "$status" in *managing*) ;; *) fail "no STATUS= from the daemon: $status" ;; esac
[ "$(unit_property odt-kept.service ActiveState)" = active ] || fail "the daemon did not apply /etc/op-dbus/state.json"

# journald gets each line with its syslog priority and no timestamp of ours.
leader=${SD_ROOT#/proc/}
leader=${leader%/root}
nsenter -t "$leader" -a journalctl -u op-dbus.service -o json --no-pager |
  jq -se 'any(.[]; (.MESSAGE | tostring | startswith("daemon.start:")) and .PRIORITY == "6")' >/dev/null ||
  fail "the journal lacks the start message at priority 6 (info)"

OUT=$(manager call org.opdbus /org/opdbus/Manager1 org.opdbus.Manager1 Query s systemd) ||
  fail "org.opdbus.Manager1 is not served under the shipped bus policy: $OUT"
case "$OUT" in *odt-kept.service*) ;; *) fail "Query: $OUT" ;; esac

manager call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager \
  ReloadUnit ss op-dbus.service replace >/dev/null
sleep 0.5
[ "$(unit_property op-dbus.service ActiveState)" = active ] ||
  fail "op-dbus did not survive a reload: $(nsenter -t "$leader" -a journalctl -u op-dbus -n 20 --no-pager 2>&1)"

manager --timeout=60 call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
  org.freedesktop.systemd1.Manager StopUnit ss op-dbus.service replace >/dev/null
for _ in $(seq 200); do
  [ "$(unit_property op-dbus.service ActiveState)" = inactive ] && break
  sleep 0.05
done
[ "$(unit_property op-dbus.service ActiveState)" = inactive ] || fail "op-dbus did not stop"
result=$(manager get-property org.freedesktop.systemd1 "$path" org.freedesktop.systemd1.Service Result)
[ "$result" = 's "success"' ] || fail "op-dbus stopped with $result"
echo "PASS: $TEST_NAME"
