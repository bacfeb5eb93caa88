#!/bin/bash
# The daemon probes its OVSDB monitor connection with echo: when ovsdb-server stops answering
# (frozen with SIGSTOP) the unanswered probe is noticed, the watch is re-opened with back-off,
# and once the server answers again drift is repaired as before.
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/services.inc"
start_ovs
nsip link add odt-p1 type veth peer name odt-q1
nsip link set odt-p1 up
cat >"$WORK/state.json" <<'EOF2'
{"version": 1, "plugins": {"ovs": {"bridges": [
  {"name": "odtbr", "datapath_type": "netdev", "ports": [{"name": "odt-p1"}]}]}}}
EOF2
"$OPDBUS" -v --netns "$NS" --state-dir "$STATE" --ovsdb "$OVSDB" --bus "unix:path=$WORK/no-bus" \
  run --state-file "$WORK/state.json" --snapshot-interval 0 >"$WORK/daemon.log" 2>&1 &
ON_EXIT+=("stop_pid $! 5")
has_port() { ovs-vsctl --db="$OVSDB" list-ports odtbr 2>/dev/null | grep -qx odt-p1; }
for _ in $(seq 200); do has_port && break; sleep 0.05; done
has_port || fail "the daemon did not create the port: $(tail -3 "$WORK/daemon.log")"
for _ in $(seq 200); do grep -q "daemon.start:" "$WORK/daemon.log" && break; sleep 0.05; done

kill -STOP "$OVSDB_PID"
ON_EXIT+=("kill -CONT $OVSDB_PID")
for _ in $(seq 300); do grep -q "did not answer the last echo probe" "$WORK/daemon.log" && break; sleep 0.05; done
kill -CONT "$OVSDB_PID"
grep -q "did not answer the last echo probe" "$WORK/daemon.log" ||
  fail "the frozen server was not noticed: $(tail -8 "$WORK/daemon.log")"
sleep 3  # the watch's retry (1 s, then 2 s) finds the server answering again
ovs-vsctl --db="$OVSDB" --no-wait del-port odtbr odt-p1
for _ in $(seq 100); do has_port && break; sleep 0.05; done
has_port || fail "drift was not repaired after the server came back: $(tail -5 "$WORK/daemon.log")"
echo "PASS: $TEST_NAME"
