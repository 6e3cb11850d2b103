// ort_predict.js — ONNX Runtime (onnxruntime-node) inference timings for bench/predict.
//
//   node ort_predict.js MODEL.onnx ROWS.csv BATCH
//
// ROWS.csv holds raw rows as the predictor reads them (a header, the
// target left out); the model's input is those columns as floats. One
// thread, as the other peers. Prints one JSON line: the median ns of a
// single-row session.run (after warm-up; the input tensor is built outside
// the timed call) and the median rows/s of a BATCH-row run.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function rows(path) {
  const lines = fs.readFileSync(path, 'utf8').split(/\r?\n/).filter((l) => l.length > 0).slice(1);
  return lines.map((l) => Float32Array.from(l.split(','), (t) => (t === '' ? NaN : Number(t))));
}

function median(v) {
  const s = Float64Array.from(v).sort();
  return s[s.length >> 1];
}

async function main() {
  const [model, csv, batchArg] = process.argv.slice(2);
  const batch = Number(batchArg);
  const r = rows(csv);
  const k = r[0].length;
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const one = (i) => ({ input: new ort.Tensor('float32', r[i % r.length], [1, k]) });
  for (let i = 0; i < 200; i++) await session.run(one(i));
  const calls = [];
  for (let i = 0; i < 2000; i++) {
    const feeds = one(i);
    const t = process.hrtime.bigint();
    await session.run(feeds);
    calls.push(Number(process.hrtime.bigint() - t));
  }
  const data = new Float32Array(batch * k);
  for (let i = 0; i < batch; i++) data.set(r[i % r.length], i * k);
  const big = { input: new ort.Tensor('float32', data, [batch, k]) };
  await session.run(big);
  const rates = [];
  for (let i = 0; i < 7; i++) {
    const t = process.hrtime.bigint();
    await session.run(big);
    rates.push(batch / (Number(process.hrtime.bigint() - t) * 1e-9));
  }
  const version = require('onnxruntime-node/package.json').version;
  console.log(JSON.stringify({ peer: 'onnxruntime-node', version, ns_per_row: median(calls),
                               rows_per_s: median(rates) }));
}

main().catch((e) => {
  console.error('ort_predict: ' + e.message);
  process.exit(1);
});
