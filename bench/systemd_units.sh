#!/bin/bash
# Benchmark: systemd units, op-dbus against systemctl, on a manager holding N extra loaded units
# (systemd as PID 1 in a container of its own, as the integration tests start it). op-dbus talks
# to the container's system bus; systemctl runs inside the container (its private socket, no
# bus). Whole processes, wall clock, medians of 15 runs, ratios from this run:
#   state     `op-dbus diff` of N declared active units  vs  `systemctl list-units --all -o json`
#   enabled   `op-dbus diff` declaring N units enabled   vs  `systemctl is-enabled` of the N units
#   inventory `op-dbus query -p systemd` (every unit and unit file, with enablement)
#                                                        vs  `systemctl list-unit-files -o json`
# Usage: bench/systemd_units.sh [N]   (root; OPDBUS defaults to build/src/app/op-dbus)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
export OPDBUS=${OPDBUS:-$PWD/build/src/app/op-dbus}
. tests/integration/common.inc
. tests/integration/services.inc
start_systemd_container
leader=${SD_ROOT#/proc/}
leader=${leader%/root}

names=()
for ((i = 0; i < N; i++)); do
  names+=("odb-$i.service")
  printf '[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n[Install]\nWantedBy=odb.target\n' \
    >"$SD_ROOT/etc/systemd/system/odb-$i.service"
done
{
  printf '[Unit]\nDescription=op-dbus benchmark units\n'
  for name in "${names[@]}"; do printf 'Wants=%s\n' "$name"; done
} >"$SD_ROOT/etc/systemd/system/odb.target"
busctl --address="$SD_BUS" call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
  org.freedesktop.systemd1.Manager Reload >/dev/null
busctl --address="$SD_BUS" --timeout=120 call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
  org.freedesktop.systemd1.Manager StartUnit ss odb.target replace >/dev/null
for _ in $(seq 600); do
  jobs=$(busctl --address="$SD_BUS" call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
    org.freedesktop.systemd1.Manager ListJobs | awk '{print $2}')
  [ "$jobs" = 0 ] && break
  sleep 0.1
done

declare_units() {  # FIELD VALUE: a state file declaring every benchmark unit
  printf '{"version": 1, "plugins": {"systemd": {"units": {'
  local i
  for ((i = 0; i < N; i++)); do printf '%s"odb-%d.service": {"%s": %s}' "$([ $i = 0 ] || echo ,)" "$i" "$1" "$2"; done
  printf '}}}}\n'
}
declare_units active_state '"active"' >"$WORK/active.json"
declare_units enabled false >"$WORK/enabled.json"

now_ns() { date +%s%N; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timed() {  # prints microseconds of the command
  local t
  t=$(now_ns)
  "$@" >/dev/null
  echo $((($(now_ns) - t) / 1000))
}
op() { "$OPDBUS" --bus "$SD_BUS" --state-dir "$STATE" "$@"; }
inside() { nsenter -t "$leader" -a "$@"; }

compare() {  # LABEL -- OP-DBUS COMMAND -- SYSTEMCTL COMMAND
  local label=$1 a=() b=() i
  shift 2
  local op_cmd=() sc_cmd=()
  while [ "$1" != -- ]; do op_cmd+=("$1"); shift; done
  shift
  sc_cmd=("$@")
  for i in $(seq 15); do
    a+=("$(timed "${op_cmd[@]}")")
    b+=("$(timed "${sc_cmd[@]}")")
  done
  local x y
  x=$(median "${a[@]}") y=$(median "${b[@]}")
  printf '%-9s op-dbus %8.1f ms   systemctl %8.1f ms   ratio %5.2f\n' "$label" \
    "$(echo "$x / 1000" | bc -l)" "$(echo "$y / 1000" | bc -l)" "$(echo "$x / $y" | bc -l)"
}

loaded=$(inside systemctl list-units --all -o json | jq length)
files=$(inside systemctl list-unit-files -o json | jq length)
echo "manager: $loaded loaded units, $files unit files; $N benchmark units declared"
compare state -- op diff "$WORK/active.json" -- inside systemctl list-units --all -o json
compare enabled -- op diff "$WORK/enabled.json" -- inside systemctl is-enabled "${names[@]}"
compare inventory -- op query -p systemd -- inside systemctl list-unit-files -o json
