// Worker of fuzz.ts: mutates fixture bytes and parses them with checkpoint-io's readers (reading
// every tensor), classifying each outcome. Posts {i, outcome} after every input so that the parent
// can spot a hang.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import {
  bytesSource,
  CheckpointIoError,
  loadPeftAdapter,
  readPt,
  SafetensorsSourceFile,
} from '../../packages/checkpoint-io/src/index.js';
import { prng } from './common.js';

export interface Fixture {
  kind: 'safetensors' | 'pt' | 'adapter-config' | 'adapter-safetensors';
  name: string;
  bytes: Uint8Array;
}
export interface FuzzJob {
  fixtures: Fixture[];
  /** Adapter fixture (config + weights) that adapter mutations start from. */
  adapter: { config: Uint8Array; weights: Uint8Array };
  from: number;
  to: number;
  seed: number;
  tmp: string;
}
export interface FuzzResult {
  i: number;
  fixture: string;
  mutation: string;
  outcome: 'accepted' | 'typed' | 'untyped';
  error?: string;
  message?: string;
}

const job = workerData as FuzzJob;
const INTERESTING = [0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe, 0x22, 0x5b, 0x7b, 0x30];

type Mutator = [string, (b: Uint8Array, r: () => number) => Uint8Array];
const at = (b: Uint8Array, r: () => number) => Math.floor(r() * Math.max(1, b.length));
const MUTATORS: Mutator[] = [
  [
    'bit flips',
    (b, r) => {
      const o = b.slice();
      for (let k = 1 + Math.floor(r() * 8); k > 0; k--) {
        const i = at(o, r);
        o[i] = (o[i] ?? 0) ^ (1 << Math.floor(r() * 8));
      }
      return o;
    },
  ],
  [
    'interesting bytes',
    (b, r) => {
      const o = b.slice();
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--) o[at(o, r)] = INTERESTING[Math.floor(r() * 10)] ?? 0;
      return o;
    },
  ],
  ['truncate', (b, r) => b.slice(0, at(b, r))],
  [
    'insert',
    (b, r) => {
      const i = at(b, r);
      const ins = Uint8Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256));
      return Buffer.concat([b.subarray(0, i), ins, b.subarray(i)]);
    },
  ],
  [
    'delete range',
    (b, r) => {
      const i = at(b, r);
      return Buffer.concat([b.subarray(0, i), b.subarray(Math.min(b.length, i + 1 + Math.floor(r() * 256)))]);
    },
  ],
  [
    'duplicate chunk',
    (b, r) => {
      const i = at(b, r);
      const chunk = b.subarray(i, i + 1 + Math.floor(r() * 512));
      const j = at(b, r);
      return Buffer.concat([b.subarray(0, j), chunk, b.subarray(j)]);
    },
  ],
  [
    'tail (zip directory) mutation',
    (b, r) => {
      const o = b.slice();
      for (let k = 1 + Math.floor(r() * 6); k > 0; k--) {
        const i = Math.max(0, o.length - 1 - Math.floor(r() * 256));
        o[i] = Math.floor(r() * 256);
      }
      return o;
    },
  ],
  [
    'u64/u32 field',
    (b, r) => {
      const o = Buffer.from(b);
      const i = at(o, r) & ~3;
      const vals = [0, 1, 0xffffffff, 0x7fffffff, 0x80000000, Math.floor(r() * 2 ** 32)];
      if (i + 4 <= o.length) o.writeUInt32LE(vals[Math.floor(r() * vals.length)] as number, i);
      return o;
    },
  ],
  [
    'digits in text',
    (b, r) => {
      // JSON headers / configs: replace a run of digits with a huge, negative or fractional number
      const s = Buffer.from(b).toString('latin1');
      const spots = [...s.matchAll(/\d+/g)];
      if (spots.length === 0) return b;
      const m = spots[Math.floor(r() * spots.length)] as RegExpMatchArray;
      const reps = ['99999999999999999999', '-1', '1.5', '1e308', '0', '9007199254740993', 'NaN', ''];
      const rep = reps[Math.floor(r() * reps.length)] as string;
      return Buffer.from(s.slice(0, m.index) + rep + s.slice((m.index as number) + m[0].length), 'latin1');
    },
  ],
  [
    'header length',
    (b, r) => {
      const o = Buffer.from(b);
      if (o.length < 8) return o;
      const vals = [0n, 1n, 7n, 2n ** 63n, 2n ** 64n - 1n, BigInt(o.length), BigInt(Math.floor(r() * 2 ** 40))];
      o.writeBigUInt64LE(vals[Math.floor(r() * vals.length)] as bigint, 0);
      return o;
    },
  ],
];

const rand = prng(job.seed);
await mkdir(job.tmp, { recursive: true });
const ptPath = join(job.tmp, 'input.pt');
const adapterDir = join(job.tmp, 'adapter');
await mkdir(adapterDir, { recursive: true });

async function parse(kind: Fixture['kind'], bytes: Uint8Array): Promise<void> {
  if (kind === 'safetensors' || kind === 'adapter-safetensors') {
    if (kind === 'adapter-safetensors') {
      await writeFile(join(adapterDir, 'adapter_config.json'), job.adapter.config);
      await writeFile(join(adapterDir, 'adapter_model.safetensors'), bytes);
      await loadPeftAdapter(adapterDir);
    }
    const f = await SafetensorsSourceFile.open(bytesSource(bytes, 'fuzz.safetensors'));
    try {
      for (const t of f.list()) await f.read(t.name);
    } finally {
      await f.close();
    }
    return;
  }
  if (kind === 'adapter-config') {
    await writeFile(join(adapterDir, 'adapter_config.json'), bytes);
    await writeFile(join(adapterDir, 'adapter_model.safetensors'), job.adapter.weights);
    await loadPeftAdapter(adapterDir);
    return;
  }
  await writeFile(ptPath, bytes);
  const pt = await readPt(ptPath);
  try {
    for (const [, t] of pt.tensors()) await t.readBytes();
  } finally {
    await pt.close();
  }
}

for (let i = job.from; i < job.to; i++) {
  const fx = job.fixtures[i % job.fixtures.length] as Fixture;
  const [mname, mutate] = MUTATORS[Math.floor(rand() * MUTATORS.length)] as Mutator;
  let bytes = mutate(fx.bytes, rand);
  if (rand() < 0.3) bytes = (MUTATORS[Math.floor(rand() * MUTATORS.length)] as Mutator)[1](bytes, rand); // stacked
  const res: FuzzResult = { i, fixture: fx.name, mutation: mname, outcome: 'accepted' };
  try {
    await parse(fx.kind, bytes);
  } catch (err) {
    if (err instanceof CheckpointIoError) {
      res.outcome = 'typed';
      res.error = err.name;
    } else {
      res.outcome = 'untyped';
      res.error = (err as Error)?.name ?? typeof err;
      res.message = String((err as Error)?.stack ?? err).slice(0, 600);
    }
  }
  parentPort?.postMessage(res);
}
