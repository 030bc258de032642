// run.js runs an ONNX model in onnxruntime-node on inputs given as JSON and
// writes every output as JSON. Used by the ml/onnx tests to check exported
// models against the app's own predictions.
//
//   node run.js MODEL.onnx INPUTS.json OUTPUTS.json
//
// INPUTS.json: {"rows": N, "inputs": {"name": {"type": "double"|"string",
// "data": [...]}}}; a double is a number, null for NaN or a string such as
// "Infinity"; every input has
// shape [N, 1]. OUTPUTS.json: {"name": {"type": ..., "dims": [...],
// "data": [...]}} with NaN written as null and int64 values as strings.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, inPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    throw new Error('usage: node run.js MODEL.onnx INPUTS.json OUTPUTS.json');
  }
  const req = JSON.parse(fs.readFileSync(inPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: 1,
  });
  const feeds = {};
  for (const [name, input] of Object.entries(req.inputs)) {
    const n = input.data.length;
    if (input.type === 'double') {
      feeds[name] = new ort.Tensor('float64', Float64Array.from(input.data, v => (v === null ? NaN : Number(v))), [n, 1]);
    } else if (input.type === 'string') {
      feeds[name] = new ort.Tensor('string', input.data, [n, 1]);
    } else {
      throw new Error(`input ${name}: unknown type ${input.type}`);
    }
  }
  const results = await session.run(feeds);
  const out = {};
  for (const [name, t] of Object.entries(results)) {
    const data = Array.from(t.data, v => {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? null : String(v);
      return v;
    });
    out[name] = { type: t.type, dims: t.dims.map(Number), data };
  }
  fs.writeFileSync(outPath, JSON.stringify(out));
}

main().catch(err => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + '\n');
  process.exit(1);
});
