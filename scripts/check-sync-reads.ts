// Fails when library source reads a tensor synchronously (dataSync / arraySync / bufferSync).
// tfjs-backend-webgpu in Node has no synchronous read (it needs OffscreenCanvas), so any such call on a
// path webgpu uses crashes there: library code reads with `await t.data()` / `await t.array()`.
// Scope: packages/*/src and apps/*/src, without tests and test helpers (*.test.ts, *.test-support.ts,
// test-support/, testing/). A call whose values are known to be host-side may stay, with a comment
// `sync-read-ok: <why>` on the same line or one of the two lines above.
//   npx tsx scripts/check-sync-reads.ts        (exit 1 and one line per offending call)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SYNC = /\.(dataSync|arraySync|bufferSync)\s*\(/;
const OK = /sync-read-ok:/;
const skipDir = (name: string): boolean => name === 'node_modules' || name === 'test-support' || name === 'testing';
const skipFile = (name: string): boolean =>
  !name.endsWith('.ts') || name === 'test-support.ts' || /\.test(-support)?\.ts$/.test(name);

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!skipDir(name)) yield* walk(p);
    } else if (!skipFile(name)) yield p;
  }
}

const offences: string[] = [];
let files = 0;
for (const top of ['packages', 'apps']) {
  for (const pkg of readdirSync(join(root, top))) {
    const src = join(root, top, pkg, 'src');
    try {
      if (!statSync(src).isDirectory()) continue;
    } catch {
      continue;
    }
    for (const file of walk(src)) {
      files++;
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!SYNC.test(line) || line.trimStart().startsWith('//') || line.trimStart().startsWith('*')) return;
        if (OK.test(line) || OK.test(lines[i - 1] ?? '') || OK.test(lines[i - 2] ?? '')) return;
        offences.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
}
if (offences.length > 0) {
  console.error(
    `${offences.length} synchronous tensor read(s) in library source (webgpu in Node cannot read synchronously; use \`await t.data()\`, or mark a host-side read with \`// sync-read-ok: <why>\`):`,
  );
  for (const o of offences) console.error(`  ${o}`);
  process.exit(1);
}
console.log(`no synchronous tensor reads in ${files} library source files`);
