// ONNX Runtime (npm onnxruntime-node, CPU) running the model tests/tools/make_bert_model.py
// writes: the reference op-dbus's encoder is checked and benchmarked against.
//   node onnx_embed.mjs embed MODEL.onnx WINDOWS.json
//       WINDOWS.json: [[[ids of window 1], [ids of window 2]], ...] (one entry per text);
//       prints, per text, the unit mean of the final hidden states of all its windows' tokens.
//   node onnx_embed.mjs bench MODEL.onnx VOCAB_SIZE SECONDS LENGTH...
//       one intra-op thread; prints {"LENGTH": milliseconds per document, ...}
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');
const [mode, modelPath, ...rest] = process.argv.slice(2);

const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

function feeds(ids) {
  const length = ids.length;
  return {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, length]),
    position_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, length]),
  };
}

async function embedWindows(windows) {
  let pooled = null;
  for (const ids of windows) {
    const { hidden } = await session.run(feeds(ids));
    const width = hidden.dims[2];
    pooled ??= new Float64Array(width);
    for (let t = 0; t < ids.length; ++t)
      for (let i = 0; i < width; ++i) pooled[i] += hidden.data[t * width + i];
  }
  const norm = Math.hypot(...pooled);
  return Array.from(pooled, (value) => value / norm);
}

async function bench(vocabulary, seconds, lengths) {
  const result = {};
  for (const length of lengths) {
    const ids = Array.from({ length }, (_, i) => (i * 7919 + 1000) % vocabulary);
    for (let i = 0; i < 3; ++i) await session.run(feeds(ids));
    let runs = 0;
    const start = process.hrtime.bigint();
    while (Number(process.hrtime.bigint() - start) < seconds * 1e9) {
      await session.run(feeds(ids));
      ++runs;
    }
    result[length] = Number(process.hrtime.bigint() - start) / 1e6 / runs;
  }
  return result;
}

if (mode === 'embed') {
  const texts = JSON.parse(readFileSync(rest[0], 'utf8'));
  const embeddings = [];
  for (const windows of texts) embeddings.push(await embedWindows(windows));
  console.log(JSON.stringify(embeddings));
} else if (mode === 'bench') {
  const [vocabulary, seconds, ...lengths] = rest.map(Number);
  console.log(JSON.stringify(await bench(vocabulary, seconds, lengths)));
} else {
  console.error('usage: onnx_embed.mjs embed MODEL.onnx WINDOWS.json | bench MODEL.onnx VOCAB SECONDS LENGTH...');
  process.exit(2);
}
