// size measures the JavaScript the first page load needs (the entry script
// and every module it preloads, as listed in dist/app/index.html) and fails
// when its gzipped size is over the budget. Lazy chunks are not counted: they
// load only when their page opens.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 150 * 1024;
const dist = new URL('../dist/app/', import.meta.url).pathname;

let html;
try {
  html = readFileSync(join(dist, 'index.html'), 'utf8');
} catch {
  console.error('dist/app/index.html is missing: run `npm run build` first.');
  process.exit(2);
}

const files = new Set();
for (const m of html.matchAll(/<script[^>]*\bsrc="([^"]+\.js)"/g)) files.add(m[1]);
for (const m of html.matchAll(/<link[^>]*rel="modulepreload"[^>]*href="([^"]+\.js)"/g)) files.add(m[1]);
if (files.size === 0) {
  console.error('found no script in dist/app/index.html');
  process.exit(2);
}

let total = 0;
for (const f of files) {
  const raw = readFileSync(join(dist, f.replace(/^\//, '')));
  const gz = gzipSync(raw, { level: 9 }).length;
  total += gz;
  console.log(`${(gz / 1024).toFixed(1).padStart(7)} KiB gz  ${(raw.length / 1024).toFixed(1).padStart(7)} KiB  ${f}`);
}
const verdict = total <= BUDGET ? 'within' : 'OVER';
console.log(`${(total / 1024).toFixed(1).padStart(7)} KiB gz  initial route JavaScript, ${verdict} the ${BUDGET / 1024} KiB budget`);
process.exit(total <= BUDGET ? 0 : 1);
