#!/bin/bash
# Watches must not leak (mgmt leaked inotify fds on every deploy, mgmt issue #982): 1,000
# reloads of `op-dbus run` (each re-reads and applies the state file and re-opens every watch)
# leave its descriptor count unchanged and its memory flat.
. "$(dirname "$0")/common.inc"
RELOADS=${SOAK_RELOADS:-1000}
cat >"$WORK/state.json" <<'EOF2'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "odt-s0", "type": "bridge", "ipv4": {"address": [{"ip": "10.67.0.1", "prefix": 24}]}}]}}}
EOF2
"$OPDBUS" -v --netns "$NS" --state-dir "$STATE" --bus "unix:path=$WORK/no-bus" run \
  --state-file "$WORK/state.json" --snapshot-interval 0 >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; cleanup' EXIT

reloads() { grep -c 'reloading the state' "$WORK/daemon.log" || true; }
fds() { ls "/proc/$DAEMON/fd" | wc -l; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$DAEMON/status"; }
reload_once() {  # sends SIGHUP and waits until the daemon has logged reload number $1
  kill -HUP "$DAEMON"
  local tries=1000
  while [ "$(reloads)" -lt "$1" ] && ((tries-- > 0)); do sleep 0.002; done
  [ "$(reloads)" -ge "$1" ] || fail "reload $1 did not happen: $(tail -3 "$WORK/daemon.log")"
}

for _ in $(seq 100); do nsip link show odt-s0 >/dev/null 2>&1 && break; sleep 0.05; done
warmup=$((RELOADS / 10))
for ((i = 1; i <= warmup; i++)); do reload_once "$i"; done
fds_before=$(fds) rss_before=$(rss_kb)
for ((i = warmup + 1; i <= RELOADS; i++)); do reload_once "$i"; done
sleep 0.2
fds_after=$(fds) rss_after=$(rss_kb)
echo "after $warmup reloads: $fds_before fds, $rss_before kB; after $RELOADS: $fds_after fds, $rss_after kB"
[ "$fds_after" = "$fds_before" ] || fail "descriptors leaked: $fds_before -> $fds_after"
[ $((rss_after - rss_before)) -lt 2048 ] || fail "memory grew by $((rss_after - rss_before)) kB"
kill -0 "$DAEMON" || fail "the daemon died"
echo "PASS: $TEST_NAME"
