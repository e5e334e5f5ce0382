// bench.mjs times Taskmind's built-in model in ONNX Runtime (CPU) at batch 1
// with 1 and 8 concurrent callers, for comparison with the Go engine.
//
//	node tools/ortref/bench.mjs [-model models/mnist/model.onnx] [-seconds 3] [-engine-p50-us N]
//
// With -engine-p50-us (the Go engine's p50 at concurrency 1, from
// go test -bench Predict), it also prints engine/ORT latency ratio.
import ort from "onnxruntime-node";

const args = { model: "models/mnist/model.onnx", seconds: "3", "engine-p50-us": "" };
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^-+/, "");
  if (!(key in args)) throw new Error(`unknown flag ${process.argv[i]}`);
  args[key] = process.argv[i + 1];
}

const session = await ort.InferenceSession.create(args.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
const input = new ort.Tensor("float32", new Float32Array(784).fill(0.5), [1, 1, 28, 28]);
const feeds = { [session.inputNames[0]]: input };

async function run(concurrency, seconds) {
  const lat = [];
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await session.run(feeds);
      lat.push(performance.now() - t0);
    }
  }));
  const wall = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] * 1000;
  return { p50: pct(0.5), p99: pct(0.99), rate: lat.length / wall };
}

await run(1, 0.5); // warm-up
const results = {};
for (const c of [1, 8]) {
  results[c] = await run(c, Number(args.seconds));
  const r = results[c];
  console.log(`ORT conc=${c}: p50 ${r.p50.toFixed(0)} µs, p99 ${r.p99.toFixed(0)} µs, ${r.rate.toFixed(0)} pred/s`);
}
if (args["engine-p50-us"]) {
  const ratio = Number(args["engine-p50-us"]) / results[1].p50;
  console.log(`Go engine p50 / ORT p50 at concurrency 1: ${ratio.toFixed(2)}x`);
}
