// Benchmark (not a test): safetensors write/read throughput on a >= 2 GB file next to
// `cat FILE > /dev/null`, and the peak RSS of a streaming `vla-ckpt convert` of that file.
//   pnpm --filter @vla-lora/checkpoint-io bench      (BENCH_GB=2.1 BENCH_DIR=/tmp by default)
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors, writeSafetensors, type SafetensorsEntry } from '../src/index.js';

const GB = Number(process.env['BENCH_GB'] ?? '2.1');
const DIR = process.env['BENCH_DIR'] ?? '/tmp';
const TENSOR_MB = 64;
const BIN = fileURLToPath(new URL('../bin/vla-ckpt.mjs', import.meta.url));

const mbps = (bytes: number, ms: number): string => `${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;

async function main(): Promise<void> {
  const work = await mkdtemp(join(DIR, 'vla-ckpt-bench-'));
  const file = join(work, 'big.safetensors');
  const out = join(work, 'big-bf16.safetensors');
  try {
    const perTensor = TENSOR_MB * 1024 * 1024;
    const count = Math.ceil((GB * 1e9) / perTensor);
    const chunkF32 = new Float32Array(1 << 18);
    const chunk = new Uint8Array(chunkF32.buffer);
    const entries: SafetensorsEntry[] = Array.from({ length: count }, (_, i) => ({
      name: `model.layers.${i}.mlp.weight`,
      dtype: 'F32',
      shape: [perTensor / 4 / 4096, 4096],
      // generated in 1 MiB chunks into one reused buffer, so the figure is the writer's, not the
      // generator's (fresh 64 MiB allocations page-fault at ~60 MB/s on this VM)
      data: {
        async *chunks() {
          for (let off = 0; off < perTensor; off += chunk.byteLength) {
            for (let j = 0; j < chunkF32.length; j += 997) chunkF32[j] = (i + off + j) * 1e-3;
            yield chunk;
          }
        },
      },
    }));
    // write (includes generating each tensor and the final fsync + rename)
    let t0 = performance.now();
    await writeSafetensors(file, entries);
    const writeMs = performance.now() - t0;
    const size = statSync(file).size;

    // cat, warm: the same file once through the page cache
    execFileSync('sh', ['-c', `cat '${file}' > /dev/null`]);
    t0 = performance.now();
    execFileSync('sh', ['-c', `cat '${file}' > /dev/null`]);
    const catMs = performance.now() - t0;

    // our streaming read of every tensor (validated header, one pread per tensor)
    t0 = performance.now();
    const r = await openSafetensors(file);
    let read = 0;
    for await (const [, t] of r.tensors()) read += t.bytes.byteLength;
    await r.close();
    const readMs = performance.now() - t0;

    // chunked streaming read: 1 MiB ranges into one reused buffer (what convert does)
    t0 = performance.now();
    const r2 = await openSafetensors(file);
    const buf = new Uint8Array(1 << 20);
    let read2 = 0;
    for (const t of r2.list()) {
      for (let off = 0; off < t.byteLength; off += buf.byteLength)
        read2 += (await r2.readBytes(t.name, off, Math.min(buf.byteLength, t.byteLength - off), buf)).byteLength;
    }
    await r2.close();
    const chunkMs = performance.now() - t0;

    // reference for writing: cat FILE > COPY && sync
    const copy = join(work, 'copy.bin');
    t0 = performance.now();
    execFileSync('sh', ['-c', `cat '${file}' > '${copy}' && sync '${copy}'`]);
    const catWriteMs = performance.now() - t0;
    rmSync(copy);

    // streaming convert F32 -> BF16 through the CLI, peak RSS from /proc (VmHWM)
    t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'convert', file, out, '--dtype', 'bf16'], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    let hwmKb = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
      } catch {
        // process gone
      }
    }, 20);
    const code: number = await new Promise((res) => child.on('exit', (c) => res(c ?? 1)));
    clearInterval(poll);
    const convertMs = performance.now() - t0;
    if (code !== 0) throw new Error(`convert exited with ${code}`);
    const outSize = statSync(out).size;

    console.log(`file: ${file} — ${(size / 1e9).toFixed(2)} GB, ${count} F32 tensors of ${TENSOR_MB} MiB`);
    console.log(
      `write (writeSafetensors, atomic, incl. fsync): ${(writeMs / 1000).toFixed(2)} s, ${mbps(size, writeMs)}`,
    );
    console.log(`cat FILE > /dev/null (warm page cache):        ${(catMs / 1000).toFixed(2)} s, ${mbps(size, catMs)}`);
    console.log(
      `cat FILE > COPY && sync:                       ${(catWriteMs / 1000).toFixed(2)} s, ${mbps(size, catWriteMs)}`,
    );
    console.log(
      `read all tensors (tensors(), 64 MiB each):     ${(readMs / 1000).toFixed(2)} s, ${mbps(read, readMs)}`,
    );
    console.log(
      `read all bytes (readBytes, 1 MiB reused buf):  ${(chunkMs / 1000).toFixed(2)} s, ${mbps(read2, chunkMs)}`,
    );
    console.log(
      `convert --dtype bf16 (CLI, streaming):         ${(convertMs / 1000).toFixed(2)} s, ${mbps(size, convertMs)} in; output ${(outSize / 1e9).toFixed(2)} GB; peak RSS ${(hwmKb / 1024).toFixed(0)} MB (goal <= 256 MB)`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${String(err)}`);
  process.exitCode = 1;
});
