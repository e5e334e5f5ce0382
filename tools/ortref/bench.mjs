// bench.mjs times Taskmind's built-in model in ONNX Runtime (CPU, one
// thread), for comparison with the Go engine: batch 1 with 1 and 8
// concurrent callers (latency), and batch 64 with one caller (throughput).
//
//	node tools/ortref/bench.mjs [-model models/mnist/model.onnx] [-seconds 3] [-engine-p50-us N] [-engine-images-per-s N]
//
// Besides the human-readable lines it prints one machine-readable line per
// measurement, for scripts/bench-inference.sh:
//
//	ORTBENCH batch=1 conc=1 p50_us=… p99_us=… pred_per_s=… images_per_s=… images_per_s_p50=…
//
// images_per_s is the mean over the run; images_per_s_p50 is batch/p50, which
// runs stalled by other processes on a shared machine do not move.
//
// The built-in model declares its batch as 1, which ONNX Runtime enforces;
// for batch 64 the script declares the first dimension of the graph's
// inputs and outputs symbolic ("N") in a copy of the model, as the Go
// engine's compiled backend treats it. With -engine-p50-us and
// -engine-images-per-s (the Go engine's batch-1 p50 and batch-64 64/p50) it
// also prints the ratios.
import ort from "onnxruntime-node";
import { readFileSync } from "node:fs";

const args = { model: "models/mnist/model.onnx", seconds: "3", "engine-p50-us": "", "engine-images-per-s": "" };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^-+/, "");
  if (!(key in args)) throw new Error(`unknown flag ${process.argv[i]}`);
  args[key] = process.argv[i + 1];
}

// ---- a minimal protobuf walk, enough to make the batch dimension symbolic ----

function varint(buf, pos) {
  let v = 0, mul = 1, b;
  do {
    b = buf[pos++];
    v += (b & 0x7f) * mul;
    mul *= 128;
  } while (b & 0x80);
  return [v, pos];
}

function encodeVarint(v) {
  const out = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return Buffer.from(out);
}

// fields splits a message into [number, wire type, raw bytes of the whole field, payload].
function fields(buf) {
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    let tag;
    [tag, pos] = varint(buf, pos);
    const num = Math.floor(tag / 8), type = tag % 8;
    let payload;
    if (type === 0) [, pos] = varint(buf, pos);
    else if (type === 1) pos += 8;
    else if (type === 5) pos += 4;
    else if (type === 2) {
      let len;
      [len, pos] = varint(buf, pos);
      payload = buf.subarray(pos, pos + len);
      pos += len;
    } else throw new Error(`unsupported wire type ${type}`);
    out.push({ num, type, raw: buf.subarray(start, pos), payload });
  }
  return out;
}

const bytesField = (num, payload) => Buffer.concat([encodeVarint(num * 8 + 2), encodeVarint(payload.length), payload]);

// edit rewrites the sub-messages at path (field numbers; the last one's
// first occurrence only when first is set) with fn.
function edit(buf, path, fn, first = false) {
  const [num, ...rest] = path;
  let done = false;
  return Buffer.concat(fields(buf).map((f) => {
    if (f.num !== num || f.type !== 2 || (first && rest.length === 0 && done)) return f.raw;
    done = true;
    return bytesField(num, rest.length ? edit(f.payload, rest, fn, first) : fn(f.payload));
  }));
}

// symbolicBatch declares dimension 0 of every graph input and output as
// dim_param "N" (ModelProto.graph=7, GraphProto.input=11/output=12,
// ValueInfoProto.type=2, TypeProto.tensor_type=1, shape=2, dim=1).
function symbolicBatch(model) {
  const dimN = () => bytesField(2, Buffer.from("N"));
  for (const io of [11, 12]) {
    model = edit(model, [7, io, 2, 1, 2, 1], dimN, true);
  }
  return model;
}

// ---- the measurements ----

const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };
const bytes = readFileSync(args.model);
const session = await ort.InferenceSession.create(bytes, opts);
const batched = await ort.InferenceSession.create(symbolicBatch(bytes), opts);

function feeds(s, n) {
  const x = new Float32Array(n * 784);
  for (let i = 0; i < x.length; i++) x[i] = (i % 255) / 255;
  return { [s.inputNames[0]]: new ort.Tensor("float32", x, [n, 1, 28, 28]) };
}

async function run(s, input, concurrency, seconds) {
  const lat = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await s.run(input);
      lat.push(performance.now() - t0);
    }
  }));
  const wall = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] * 1000;
  return { p50: pct(0.5), p99: pct(0.99), rate: lat.length / wall };
}

const one = feeds(session, 1);
const sixtyFour = feeds(batched, 64);
await run(session, one, 1, 0.5); // warm-up
await run(batched, sixtyFour, 1, 0.5);
const results = [];
for (const [batch, conc, s, input] of [[1, 1, session, one], [1, 8, session, one], [64, 1, batched, sixtyFour]]) {
  const r = await run(s, input, conc, Number(args.seconds));
  r.batch = batch;
  r.conc = conc;
  r.images = r.rate * batch;
  // From the median run: robust to runs stalled by other processes.
  r.imagesP50 = (batch * 1e6) / r.p50;
  results.push(r);
  console.log(`ORT batch=${batch} conc=${conc}: p50 ${r.p50.toFixed(0)} µs, p99 ${r.p99.toFixed(0)} µs, ${r.rate.toFixed(0)} runs/s, ${r.images.toFixed(0)} images/s`);
}
for (const r of results) {
  console.log(`ORTBENCH batch=${r.batch} conc=${r.conc} p50_us=${r.p50.toFixed(1)} p99_us=${r.p99.toFixed(1)} pred_per_s=${r.rate.toFixed(1)} images_per_s=${r.images.toFixed(1)} images_per_s_p50=${r.imagesP50.toFixed(1)}`);
}
if (args["engine-p50-us"]) {
  const ratio = Number(args["engine-p50-us"]) / results[0].p50;
  console.log(`Go engine p50 / ORT p50 at batch 1, concurrency 1: ${ratio.toFixed(2)}x (floor: <= 1.5x)`);
}
if (args["engine-images-per-s"]) {
  const ratio = Number(args["engine-images-per-s"]) / results[2].imagesP50;
  console.log(`Go engine images/s / ORT images/s (64/p50) at batch 64: ${ratio.toFixed(2)}x (floor: >= 0.5x)`);
}
