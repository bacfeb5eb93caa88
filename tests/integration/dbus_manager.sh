#!/bin/bash
# op-dbus on the bus: `op-dbus run` owns org.opdbus on a private bus and serves
# org.opdbus.Manager1; polkitd (with op-dbus's shipped actions and a test rule allowing the user
# "daemon") decides on writes. root and "daemon" may Apply, "nobody" is refused; reads are open
# to everyone; every write and every refusal is in the ledger with the caller's uid.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
command -v busctl >/dev/null || skip "busctl is not installed"
command -v setpriv >/dev/null || skip "setpriv is not installed"
getent passwd daemon >/dev/null && getent passwd nobody >/dev/null || skip "users daemon and nobody are needed"
chmod 711 "$WORK"  # unprivileged callers reach the bus socket inside it
start_private_bus
start_polkit 'polkit.addRule(function(action, subject) {
  if (action.id == "org.opdbus.apply" && subject.user == "daemon") return polkit.Result.YES;
});'

"$OPDBUS" --bus "$BUS" --netns "$NS" --state-dir "$STATE" run >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
ON_EXIT+=("stop_pid $DAEMON 10")
for _ in $(seq 200); do [ -n "$(bus_name_pid org.opdbus)" ] && break; sleep 0.05; done
[ -n "$(bus_name_pid org.opdbus)" ] || fail "op-dbus run did not own org.opdbus: $(cat "$WORK/daemon.log")"

busctl --address="$BUS" monitor --match "type='signal',interface='org.opdbus.Manager1'" \
  >"$WORK/signals" 2>&1 &
ON_EXIT+=("stop_pid $! 5")
for _ in $(seq 100); do grep -q Monitoring "$WORK/signals" && break; sleep 0.05; done

# as USER: busctl against the manager, output in $OUT, exit status returned.
as() {
  local user=$1
  shift
  OUT=$(setpriv --reuid="$(id -u "$user")" --regid="$(id -g "$user")" --clear-groups \
    busctl --address="$BUS" call org.opdbus /org/opdbus/Manager1 org.opdbus.Manager1 "$@" 2>&1)
}
bridge() { printf '{"version": 1, "plugins": {"net": {"interfaces": [{"name": "%s", "type": "bridge", "state": "up"}]}}}' "$1"; }

as root Apply 'sa{sv}' "$(bridge odt-root)" 0 || fail "root's Apply failed: $OUT; $(cat "$WORK/daemon.log")"
case "$OUT" in *'\"outcome\":\"applied\"'*) ;; *) fail "root's Apply: $OUT" ;; esac
nsip link show odt-root >/dev/null || fail "root's bridge was not created"

as nobody Apply 'sa{sv}' "$(bridge odt-nobody)" 0 && fail "nobody's Apply was allowed: $OUT"
expect_contains "Access denied"  # busctl shows AccessDenied so; the reason is in the ledger
nsip link show odt-nobody >/dev/null 2>&1 && fail "nobody's bridge exists"

as daemon Apply 'sa{sv}' "$(bridge odt-daemon)" 0 || fail "daemon's Apply (allowed by the rule) failed: $OUT"
nsip link show odt-daemon >/dev/null || fail "daemon's bridge was not created"

as nobody Rollback && fail "nobody's Rollback was allowed: $OUT"
as nobody Query s net || fail "reads are open, but nobody's Query failed: $OUT"
case "$OUT" in *odt-daemon*) ;; *) fail "Query: $OUT" ;; esac
as nobody Diff s "$(bridge odt-other)" || fail "nobody's Diff failed: $OUT"
as nobody LedgerVerify || fail "LedgerVerify: $OUT"
case "$OUT" in *'\"ok\":true'*) ;; *) fail "LedgerVerify: $OUT" ;; esac
as root Apply 'sa{sv}' '{"version": 1, "plugins": {"net": {"interfaces": [{"name": 7}]}}}' 0 &&
  fail "a bad state was accepted"
case "$OUT" in *"dbus:Apply:1:52: /plugins/net/interfaces/0/name: expected string"*) ;; *) fail "bad state: $OUT" ;; esac

for _ in $(seq 50); do [ "$(grep -c 'Member=Changed' "$WORK/signals")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c 'Member=Changed' "$WORK/signals")" = 2 ] ||
  fail "expected a Changed signal for each of the two accepted writes: $(cat "$WORK/signals")"

expect_rc 0 "$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000
jq -e --argjson nobody "$(id -u nobody)" --argjson daemon "$(id -u daemon)" '
  ([.[] | select(.action == "apply" and .actor.interface == "dbus") | .actor.uid] | sort) == ([0, $daemon] | sort)
  and ([.[] | select(.action == "Apply.denied") | .actor.uid] == [$nobody])
  and ([.[] | select(.action == "Apply.denied") | .result.reason][0]
       | contains("org.opdbus.apply is not authorised for uid \($nobody) by polkit"))
  and ([.[] | select(.action == "Rollback.denied") | .actor.uid] == [$nobody])' <<<"$OUT" >/dev/null ||
  fail "the ledger does not hold each write and refusal with its caller: $OUT"
echo "PASS: $TEST_NAME"
