// run_ort.js — evaluate an ONNX model with ONNX Runtime (onnxruntime-node).
//
//   node run_ort.js MODEL.onnx ROWS.csv [--drop COLUMN]
//
// Reads ROWS.csv (a header, then numeric rows; an empty field or NA, N/A,
// null, ?, NaN is missing and becomes NaN), leaves out the column named by
// --drop (the target), feeds the remaining columns in file order as the
// model's float input [N, columns] and prints one CSV line per row:
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

function readRows(path, drop) {
  const lines = fs.readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const keep = header.map((h, i) => i).filter((i) => header[i] !== drop);
  const data = new Float32Array((lines.length - 1) * keep.length);
  for (let r = 1; r < lines.length; r++) {
    const f = lines[r].split(',');
    keep.forEach((c, j) => {
      const t = (f[c] || '').trim();
      data[(r - 1) * keep.length + j] = MISSING.has(t) ? NaN : Number(t);
    });
  }
  return { rows: lines.length - 1, cols: keep.length, data };
}

async function main() {
  const pos = [];
  let drop = null;
  for (let i = 2; i < process.argv.length; i++) {
    if (process.argv[i] === '--drop') drop = process.argv[++i];
    else pos.push(process.argv[i]);
  }
  const [model, csv] = pos;
  const t = readRows(csv, drop);
  const session = await ort.InferenceSession.create(model);
  const out = await session.run({ input: new ort.Tensor('float32', t.data, [t.rows, t.cols]) });
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
