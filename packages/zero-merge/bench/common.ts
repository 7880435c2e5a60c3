// What the zero-merge benchmarks share: the synthetic ZeRO checkpoint (generated once, reused), a warm
// page cache, and measuring a child process (wall, CPU, peak RSS via /usr/bin/time, load average).
//   BENCH_DIR=/tmp BENCH_LAYERS=6 BENCH_RANKS=8 BENCH_STAGE=3 (checkpoint reused when present)
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { loraSynthOptions, synthExpected, writeSyntheticCheckpoint, type SynthOptions } from '../scripts/synthetic.js';

export const DIR = process.env['BENCH_DIR'] ?? '/tmp';
export const STAGE = Number(process.env['BENCH_STAGE'] ?? '3') as 1 | 2 | 3;
export const RANKS = Number(process.env['BENCH_RANKS'] ?? '8');
export const LAYERS = Number(process.env['BENCH_LAYERS'] ?? '6');
/** Where outputs go (default BENCH_DIR); e.g. /dev/shm to take the output disk out of the figure. */
export const OUT_DIR = process.env['BENCH_OUT_DIR'] ?? DIR;

export const spec: SynthOptions = loraSynthOptions(
  { layers: LAYERS, hidden: 4096, mlp: 11008, vocab: 32000, rank: 64, head: [8192, 8192], runningMean: 1024 },
  { stage: STAGE, worldSize: RANKS },
);

export const checkpointDir = join(DIR, `zero-merge-bench-z${STAGE}-r${RANKS}-l${LAYERS}`);

export const mb = (b: number): string => `${(b / 1e6).toLocaleString('en-US', { maximumFractionDigits: 0 })} MB`;
export const rate = (b: number, s: number): string => `${(b / 1e6 / s).toFixed(0)} MB/s`;
export const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');

export function rankFiles(ckpt = checkpointDir): string[] {
  const tagDir = join(ckpt, 'global_step1');
  return readdirSync(tagDir)
    .filter((f) => f.endsWith('.pt'))
    .map((f) => join(tagDir, f))
    .sort();
}

/** Generates the benchmark checkpoint unless a complete one is there. Returns its rank files. */
export async function ensureCheckpoint(): Promise<string[]> {
  const stamp = join(checkpointDir, '.complete');
  if (!existsSync(stamp)) {
    const fs = statfsSync(DIR);
    const free = fs.bavail * fs.bsize;
    if (free < 9e9) throw new Error(`need ~9 GB free in ${DIR} (checkpoint + output), have ${mb(free)}; set BENCH_DIR`);
    rmSync(checkpointDir, { recursive: true, force: true });
    const t0 = performance.now();
    await writeSyntheticCheckpoint(checkpointDir, spec);
    writeFileSync(stamp, JSON.stringify({ layers: LAYERS, ranks: RANKS, stage: STAGE }));
    console.log(`generated ${checkpointDir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } else console.log(`reusing ${checkpointDir}`);
  return rankFiles();
}

export const bytesOf = (files: string[]): number => files.reduce((a, f) => a + statSync(f).size, 0);

/** Reads every file once (the page cache as warm as it gets); returns the seconds it took. */
export async function warm(files: string[]): Promise<number> {
  const t0 = performance.now();
  for (const f of files) {
    await new Promise<void>((res, rej) => {
      const s = createReadStream(f, { highWaterMark: 4 << 20 });
      s.on('data', () => {});
      s.on('end', res);
      s.on('error', rej);
    });
  }
  return (performance.now() - t0) / 1000;
}

export interface Measured {
  wallS: number;
  userS: number;
  systemS: number;
  peakRssMb: number;
  loadBefore: string;
  loadAfter: string;
  stdout: string;
  stderr: string;
}

/** Runs a command under `/usr/bin/time` (GNU time): wall, user and system CPU, peak RSS of the process. */
export function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Measured {
  const loadBefore = load();
  const marker = '@@time';
  const r = spawnSync('/usr/bin/time', ['-f', `${marker} %e %U %S %M`, cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env,
  });
  const loadAfter = load();
  const line = r.stderr
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(marker));
  if (r.status !== 0 || !line) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  const [wall, user, sys, rssKb] = line.split(' ').slice(1).map(Number) as [number, number, number, number];
  return {
    wallS: wall,
    userS: user,
    systemS: sys,
    peakRssMb: rssKb / 1024,
    loadBefore,
    loadAfter,
    stdout: r.stdout,
    stderr: r.stderr.slice(0, r.stderr.lastIndexOf(marker)),
  };
}

const BIN = fileURLToPath(new URL('../bin/zero-merge.mjs', import.meta.url));

/** Runs the CLI once on a warm cache; returns the measurement and what it wrote. */
export function runZeroMerge(out: string, extra: string[] = []) {
  rmSync(out, { recursive: true, force: true });
  const m = measure(process.execPath, [BIN, checkpointDir, out, '--json', '-q', ...extra]);
  const result = JSON.parse(m.stdout) as { bytes: number; tensors: number; files: string[] };
  return { ...m, result };
}

/** Exact check of sampled output tensors (the largest ones included) against the generator's formula. */
export async function checkSampled(files: string[]): Promise<number> {
  const names = [
    'base_model.model.model.embed_tokens.weight',
    'base_model.model.lm_head.weight',
    'action_head.layers.1.weight',
    'action_head.layers.1.bias',
    'action_head.running_mean',
    `base_model.model.model.layers.${LAYERS - 1}.mlp.down_proj.base_layer.weight`,
    'base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight',
    `base_model.model.model.layers.${LAYERS - 1}.mlp.up_proj.lora_B.default.weight`,
  ];
  let checked = 0;
  for (const file of files.filter((f) => f.endsWith('.safetensors'))) {
    const reader = await openSafetensors(file);
    try {
      for (const n of names) {
        if (!reader.has(n)) continue;
        checked++;
        const got = await reader.read(n);
        const exp = synthExpected(spec, n);
        if (
          got.dtype !== exp.dtype ||
          JSON.stringify(got.shape) !== JSON.stringify(exp.shape) ||
          !Buffer.from(got.bytes).equals(Buffer.from(exp.bytes))
        ) {
          throw new Error(`output tensor ${n} differs from the generator's values`);
        }
      }
    } finally {
      await reader.close();
    }
  }
  return checked;
}
