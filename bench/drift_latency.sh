#!/bin/bash
# Benchmark: drift detection latency of `op-dbus run`: N times, an address the daemon enforces is
# deleted behind its back (`ip addr del`), and the time from just before the deletion to the
# drift block's timestamp in the ledger is measured (same clock); also the time until the
# address is back. Reports median and p99. Target: p99 detection under 100 ms.
# Usage: bench/drift_latency.sh [N]   (root; OPDBUS defaults to build/src/app/op-dbus)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
. tests/integration/common.inc
cat >"$WORK/state.json" <<'EOF2'
{"version": 1, "plugins": {"net": {"interfaces": [
  {"name": "odb-d0", "type": "bridge", "ipv4": {"address": [{"ip": "10.68.0.1", "prefix": 24}]}}]}}}
EOF2
"$OPDBUS" --netns "$NS" --state-dir "$STATE" --bus "unix:path=$WORK/no-bus" run \
  --state-file "$WORK/state.json" --snapshot-interval 0 --fight-window 0 --max-reapplies 100000 \
  >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; cleanup' EXIT
present() { ip -n "$NS" -o -4 addr show dev odb-d0 2>/dev/null | grep -q 10.68.0.1/24; }
for _ in $(seq 200); do present && break; sleep 0.05; done
present || fail "the daemon did not apply the state"
sleep 0.5

: >"$WORK/starts"
restore_ms=()
for ((i = 0; i < N; i++)); do
  t=$(date +%s%N)
  echo "$t" >>"$WORK/starts"
  ip -n "$NS" addr del 10.68.0.1/24 dev odb-d0
  until present; do :; done
  restore_ms+=("$((($(date +%s%N) - t) / 1000))")
  sleep 0.02  # the re-apply's own netlink events settle
done
"$OPDBUS" --state-dir "$STATE" --json ledger log -n 1000000 >"$WORK/ledger.json"
jq -r '[.[] | select(.action == "drift" and .result.enforce == 1)] | sort_by(.height) | .[].time' \
  "$WORK/ledger.json" >"$WORK/drift_times"
drifts=$(wc -l <"$WORK/drift_times")
[ "$drifts" -ge "$N" ] || fail "only $drifts drift blocks for $N changes"
python3 - "$WORK/starts" "$WORK/drift_times" "${restore_ms[@]}" <<'PY'
import datetime, statistics, sys
starts = [int(line) for line in open(sys.argv[1])]
drifts = [datetime.datetime.fromisoformat(line.strip().replace("Z", "+00:00")).timestamp() for line in open(sys.argv[2])]
detect = sorted((d - s / 1e9) * 1000 for s, d in zip(starts, drifts[-len(starts):]))
restore = sorted(int(x) / 1000 for x in sys.argv[3:])
p = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))]
print(f"{len(detect)} drift events")
print(f"change -> drift block   median {statistics.median(detect):6.1f} ms   p99 {p(detect, 0.99):6.1f} ms   (target p99 < 100 ms)")
print(f"change -> restored      median {statistics.median(restore):6.1f} ms   p99 {p(restore, 0.99):6.1f} ms")
PY
