// Benchmark (not a test): read a >= 1 GB torch.save file written by writePt, all tensors, next to
// `cat FILE > /dev/null` and (when Debian's python3-torch is installed) torch.load of the same file.
//   npx tsx bench/pt-read.ts            (BENCH_PT_GB=1.07 BENCH_DIR=/tmp by default; BENCH_KEEP=1 keeps the file)
// Every figure is taken with the file in the page cache (cat runs first), so they compare parsing + copying,
// not the disk.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { PtTensorData, ptDict, readPt, writePt, type PtWritable } from '../src/pt/index.js';

const GB = Number(process.env['BENCH_PT_GB'] ?? '1.07');
const DIR = process.env['BENCH_DIR'] ?? '/tmp';
const TENSOR_MB = 16;
const PYTHON = '/usr/bin/python3';

const mbps = (bytes: number, ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
const line = (what: string, ms: number, bytes: number, extra = ''): void =>
  console.log(
    `${what.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${mbps(bytes, ms).padStart(10)}${extra ? `  ${extra}` : ''}`,
  );

async function main(): Promise<void> {
  const work = await mkdtemp(join(DIR, 'vla-pt-bench-'));
  const file = join(work, 'big.pt');
  try {
    const perTensor = TENSOR_MB * 1024 * 1024;
    const count = Math.ceil((GB * 1e9) / perTensor);
    // One reused buffer, refilled per tensor (the writer consumes a storage fully before asking for the next).
    const buf = new Float32Array(perTensor / 4);
    const entries: Array<[string, PtWritable]> = [];
    for (let i = 0; i < count; i++) {
      const bf16 = i % 4 === 3;
      entries.push([
        `model.layers.${i}.mlp.weight`,
        new PtTensorData(
          bf16 ? 'bfloat16' : 'float32',
          bf16 ? [perTensor / 2 / 4096, 4096] : [perTensor / 4 / 4096, 4096],
          async () => {
            for (let j = 0; j < buf.length; j += 1021) buf[j] = (i + j) * 1e-3;
            return new Uint8Array(buf.buffer);
          },
        ),
      ]);
    }
    let t = performance.now();
    await writePt(file, ptDict(entries, true));
    const size = statSync(file).size;
    line(`writePt (${count} tensors, ${(size / 1e9).toFixed(2)} GB)`, performance.now() - t, size);

    t = performance.now();
    execFileSync('sh', ['-c', `cat '${file}' > /dev/null`]);
    line('cat FILE > /dev/null (first, warms the cache)', performance.now() - t, size);
    t = performance.now();
    execFileSync('sh', ['-c', `cat '${file}' > /dev/null`]);
    const catMs = performance.now() - t;
    line('cat FILE > /dev/null (cached)', catMs, size);

    t = performance.now();
    const pt = await readPt(file);
    const openMs = performance.now() - t;
    const tensors = pt.tensors();
    let bytes = 0;
    for (const [, tensor] of tensors) bytes += (await tensor.readBytes()).byteLength;
    const readMs = performance.now() - t;
    line(`readPt open (${tensors.length} tensors, no data read)`, openMs, 0, '(pickle only)');
    line('readPt + readBytes() of every tensor', readMs, bytes, `(${(readMs / catMs).toFixed(1)}× cat)`);

    // The same, reading into one reused buffer (what a streaming consumer such as zero-merge does).
    const scratch = new Uint8Array(perTensor);
    t = performance.now();
    let bytes2 = 0;
    for (const [, tensor] of tensors) bytes2 += (await tensor.readBytes(scratch)).byteLength;
    const intoMs = performance.now() - t;
    line('readBytes(into reused buffer) of every tensor', intoMs, bytes2, `(${(intoMs / catMs).toFixed(1)}× cat)`);

    // A zero-merge style slice: 1 MiB from the middle of the last tensor.
    const [, last] = tensors[tensors.length - 1] as [string, (typeof tensors)[number][1]];
    t = performance.now();
    const slice = await last.readElements(Math.floor(last.numel / 2), (1 << 20) / last.itemsize);
    line('readElements: 1 MiB slice of one tensor', performance.now() - t, slice.byteLength);
    await pt.close();
    console.log(`peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

    const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) {
      const py = spawnSync(
        PYTHON,
        [
          '-c',
          `import time, torch\nt = time.time()\nsd = torch.load('${file}', map_location='cpu')\nn = sum(v.numel() * v.element_size() for v in sd.values())\nprint(time.time() - t, n)`,
        ],
        { encoding: 'utf8', maxBuffer: 1 << 20 },
      );
      if (py.status !== 0) throw new Error(py.stderr);
      const [secs, n] = py.stdout.trim().split(/\s+/).map(Number) as [number, number];
      line(
        `python torch ${probe.stdout.trim()} torch.load (after import)`,
        secs * 1000,
        n,
        `(${((secs * 1000) / catMs).toFixed(1)}× cat)`,
      );
    } else {
      console.log(`torch.load: skipped (${PYTHON} cannot import torch)`);
    }
  } finally {
    if (process.env['BENCH_KEEP'] !== '1') rmSync(work, { recursive: true, force: true });
    else console.log(`kept ${file}`);
  }
}

await main();
