#!/bin/bash
# Benchmark: the ledger side by side with what people use today, in one run.
#  1. durable appends/s from 8 concurrent writers (each waits for its record to be fsync'ed):
#     op-dbus's ledger vs SQLite in WAL mode with synchronous=FULL, the same records;
#  2. `op-dbus ledger verify` of 1,000,000 blocks (every hash, the chain, the Merkle root and
#     the signature) vs `sha256sum` of the same file (hashing alone, no structure);
#  3. inclusion and consistency proofs at 1,000,000 leaves (Google Benchmark).
# Usage: bench/ledger.sh [BLOCKS] [APPENDS]   (defaults 1000000 and 20000; needs ~1 GB in
# BENCH_DIR, default /var/tmp, which should be a real disk: tmpfs makes fsync free)
set -euo pipefail
cd "$(dirname "$0")/.."
BLOCKS=${1:-1000000}
APPENDS=${2:-20000}
BUILD=${BUILD:-build}
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/opdbus-ledger-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOAD=$BUILD/tests/tools/opdbus-ledger-load

echo "== durable appends, 8 writers, $APPENDS records ($(df -T "$WORK" | awk 'NR==2 {print $2}') on $(df "$WORK" | awk 'NR==2 {print $1}'))"
rates=()
for round in 1 2 3; do
  rm -rf "$WORK/appends"
  op=$("$LOAD" append "$WORK/appends" "$APPENDS" 8 2>&1 | sed -n 's/.* \([0-9]*\) appends\/s/\1/p')
  sq=$("$LOAD" sqlite "$WORK" "$APPENDS" 8 2>&1 | sed -n 's/.* \([0-9]*\) inserts\/s/\1/p')
  echo "round $round: op-dbus $op appends/s, sqlite $sq inserts/s, ratio $(echo "scale=2; $op / $sq" | bc)"
done

echo "== verify $BLOCKS blocks"
"$LOAD" generate "$WORK/big" "$BLOCKS"
size=$(stat -c %s "$WORK/big/ledger/blocks.jsonl")
for round in 1 2 3; do
  start=$(date +%s%N)
  "$BUILD/src/app/op-dbus" --state-dir "$WORK/big" ledger verify >/dev/null
  verify_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  start=$(date +%s%N)
  sha256sum "$WORK/big/ledger/blocks.jsonl" >/dev/null
  sha_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "round $round: ledger verify $verify_ms ms, sha256sum $sha_ms ms ($((size / 1000000)) MB), ratio $(echo "scale=2; $verify_ms / $sha_ms" | bc)"
done

echo "== proofs at 1,000,000 leaves"
"$BUILD/bench/bench_ledger_proofs" --benchmark_min_time=1 2>/dev/null | grep -E 'Proof'
