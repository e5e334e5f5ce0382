// refset.mjs runs every model of the reference set in ONNX Runtime and
// writes its outputs next to the inputs, with reference.json recording
// their shapes and what they were computed from. The models and inputs come
// from the mkref program; from the repository root:
//
//	go run ./internal/inference/internal/onnxtest/mkref
//	(cd tools/ortref && ONNXRUNTIME_NODE_INSTALL=skip npm ci)   # once
//	node tools/ortref/refset.mjs [-dir internal/inference/testdata/reference]
//
// ONNX Runtime runs on one thread with graph optimizations disabled, so each
// operator is computed as the ONNX specification states it rather than
// fused. A model that fixes its batch at 1 (fixed_batch in the manifest)
// runs a larger batch row by row, and the rows' outputs are stacked: that is
// what an engine that takes any batch must compute for it.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import ort from "onnxruntime-node";

const require = createRequire(import.meta.url);
const ortVersion = require("onnxruntime-node/package.json").version;

const opts = { dir: "internal/inference/testdata/reference" };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^-+/, "");
  if (!(key in opts) || i + 1 >= process.argv.length) {
    throw new Error(`usage: refset.mjs [-dir DIR] (bad argument ${process.argv[i]})`);
  }
  opts[key] = process.argv[i + 1];
}

const sha256 = (...bufs) => {
  const h = createHash("sha256");
  for (const b of bufs) h.update(b);
  return h.digest("hex");
};

// readFloats copies a file into a Float32Array; the file's bytes are
// little-endian, like every machine ONNX Runtime runs on here.
function readFloats(buf) {
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

function floatBytes(data) {
  const buf = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], 4 * i);
  return buf;
}

const size = (shape) => shape.reduce((a, b) => a * b, 1);

// runRows runs feeds of batch n one row at a time and stacks the outputs.
async function runRows(session, inputs, n) {
  const parts = [];
  for (let r = 0; r < n; r++) {
    const feeds = {};
    for (const t of inputs) {
      const per = size(t.shape) / n;
      feeds[t.name] = new ort.Tensor("float32", t.data.slice(r * per, (r + 1) * per), [1, ...t.shape.slice(1)]);
    }
    parts.push(await session.run(feeds));
  }
  const out = {};
  for (const name of session.outputNames) {
    const first = parts[0][name];
    const data = new Float32Array(first.data.length * n);
    parts.forEach((p, r) => data.set(p[name].data, r * first.data.length));
    if (first.dims[0] !== 1) throw new Error(`output ${name} has shape [${first.dims}] at batch 1; cannot stack rows`);
    out[name] = { dims: [n, ...first.dims.slice(1)], data };
  }
  return out;
}

const manifest = JSON.parse(readFileSync(path.join(opts.dir, "manifest.json"), "utf8"));
const reference = {
  about:
    "ONNX Runtime's outputs for manifest.json, written by tools/ortref/refset.mjs; " +
    "output_<i>.bin are raw little-endian float32 in graph output order.",
  runtime: `onnxruntime-node ${ortVersion} (CPU, 1 thread, graph optimizations disabled)`,
  command: ["node tools/ortref/refset.mjs", ...process.argv.slice(2)].join(" "),
  models: [],
};
for (const m of manifest.models) {
  const bytes = readFileSync(path.join(opts.dir, m.file));
  if (sha256(bytes) !== m.sha256) {
    throw new Error(`${m.name}: ${m.file} does not match the manifest's sha256; rerun mkref`);
  }
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "disabled",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    // Tiny declares its output [1,3]; the warning at batch 3 is expected.
    logSeverityLevel: 3,
  });
  const entry = { name: m.name, sha256: m.sha256, runs: [] };
  for (const run of m.runs) {
    const raw = run.inputs.map((t) => readFileSync(path.join(opts.dir, t.file)));
    const inputs = run.inputs.map((t, i) => ({ name: t.name, shape: t.shape, data: readFloats(raw[i]) }));
    const perRow = m.fixed_batch && run.batch > 1;
    let result;
    if (perRow) {
      result = await runRows(session, inputs, run.batch);
    } else {
      const feeds = {};
      for (const t of inputs) feeds[t.name] = new ort.Tensor("float32", t.data, t.shape);
      result = await session.run(feeds);
    }
    const outputs = session.outputNames.map((name, i) => {
      const t = result[name];
      const file = `${run.dir}/output_${i}.bin`;
      writeFileSync(path.join(opts.dir, file), floatBytes(t.data));
      return { name, shape: Array.from(t.dims, Number), file };
    });
    entry.runs.push({ batch: run.batch, inputs_sha256: sha256(...raw), mode: perRow ? "per-row" : "batch", outputs });
  }
  await session.release();
  reference.models.push(entry);
  console.log(`${m.name}: ${entry.runs.map((r) => `batch ${r.batch} -> ${r.outputs.map((o) => `[${o.shape}]`).join(" ")}`).join(", ")}`);
}
writeFileSync(path.join(opts.dir, "reference.json"), JSON.stringify(reference, null, 2) + "\n");
console.log(`wrote ${path.join(opts.dir, "reference.json")}: ${reference.models.length} models`);
