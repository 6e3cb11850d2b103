// run_ort.js — evaluate an ONNX model with ONNX Runtime (onnxruntime-node).
//
//   node run_ort.js MODEL.onnx ROWS.csv [--drop COLUMN] [--text COLUMN,...]
//
// Reads ROWS.csv (a header, then rows; a field may be quoted, with
// doubled quotes inside, as RFC 4180 writes it), leaves out the
// column named by --drop (the target), feeds the columns named by --text
// as texts in "input_text" [N, text columns] and the others as numbers in
// "input" [N, columns] (an empty field or NA, N/A, null, ?, NaN is
// missing and becomes NaN), each in file order, and prints one CSV line
// per row:
// "label,p_0,p_1,..." (the class index, then the probabilities) for a
// classifier, "value" for a regression. Exit status 2 when
// onnxruntime-node cannot be loaded, so callers can tell "absent" apart
// from "wrong".
'use strict';
const fs = require('fs');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  process.stderr.write('run_ort: onnxruntime-node is not installed (' + e.code + ')\n');
  process.exit(2);
}

const MISSING = new Set(['', 'NA', 'N/A', 'null', '?', 'NaN', 'nan']);

// The records of a CSV text, each an array of its fields.
function parseCsv(s) {
  const recs = [];
  let rec = [], field = '', i = 0, quoted = false;
  while (i < s.length) {
    const c = s[i++];
    if (quoted) {
      if (c === '"' && s[i] === '"') field += s[i++];
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') rec.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i] === '\n') i++;
      rec.push(field), (field = '');
      if (rec.length > 1 || rec[0] !== '') recs.push(rec);
      rec = [];
    } else field += c;
  }
  if (field !== '' || rec.length) rec.push(field), recs.push(rec);
  return recs;
}

function readRows(path, drop, text) {
  const lines = parseCsv(fs.readFileSync(path, 'utf8'));
  const header = lines[0];
  const keep = header.map((h, i) => i).filter((i) => header[i] !== drop && !text.includes(header[i]));
  const strs = header.map((h, i) => i).filter((i) => text.includes(header[i]));
  const rows = lines.length - 1;
  const data = new Float32Array(rows * keep.length), texts = [];
  for (let r = 1; r < lines.length; r++) {
    const f = lines[r];
    keep.forEach((c, j) => {
      const t = (f[c] || '').trim();
      data[(r - 1) * keep.length + j] = MISSING.has(t) ? NaN : Number(t);
    });
    strs.forEach((c) => texts.push(f[c] || ''));
  }
  const feeds = {};
  if (keep.length) feeds.input = new ort.Tensor('float32', data, [rows, keep.length]);
  if (strs.length) feeds.input_text = new ort.Tensor('string', texts, [rows, strs.length]);
  return { rows, feeds };
}

async function main() {
  const pos = [];
  let drop = null;
  let text = [];
  for (let i = 2; i < process.argv.length; i++) {
    if (process.argv[i] === '--drop') drop = process.argv[++i];
    else if (process.argv[i] === '--text') text = process.argv[++i].split(',');
    else pos.push(process.argv[i]);
  }
  const [model, csv] = pos;
  const t = readRows(csv, drop, text);
  const session = await ort.InferenceSession.create(model);
  const out = await session.run(t.feeds);
  const lines = [];
  if (out.value) {
    for (let r = 0; r < t.rows; r++) lines.push(out.value.data[r].toPrecision(9));
  } else {
    const k = out.probabilities.dims[1];
    for (let r = 0; r < t.rows; r++) {
      const p = Array.from(out.probabilities.data.slice(r * k, (r + 1) * k), (v) => v.toPrecision(9));
      lines.push([String(out.label.data[r])].concat(p).join(','));
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write('run_ort: ' + e.message + '\n');
  process.exit(1);
});
