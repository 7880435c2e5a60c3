// TensorBoard event files (events.out.tfevents.<time>.<host>), written by hand: TFRecord framing
// (uint64 LE length, masked CRC-32C of the length, data, masked CRC-32C of the data) around `Event`
// protos (tensorboard/compat/proto/event.proto): first `file_version: "brain.Event:2"`, then one
// Event per step with a Summary of `simple_value` scalars — what torch.utils.tensorboard's add_scalar
// writes, and what TensorBoard's scalar dashboard reads.
import { appendFile, mkdir, readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic, type MetricRecord } from '@vla-lora/checkpoint-io';
import { MetricsError } from '../errors.js';

// --- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord uses -------------------------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15, add 0xa282ead8 (mod 2^32). */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

/** One TFRecord: length, masked CRC of the length, data, masked CRC of the data. */
export function tfRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(data.length), true);
  v.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  v.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

// --- protobuf wire format (only what Event/Summary need) --------------------------------------------
class ProtoWriter {
  private readonly parts: number[] = [];
  private varint(n: bigint): void {
    let x = BigInt.asUintN(64, n);
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }
  private key(field: number, wire: number): void {
    this.varint(BigInt((field << 3) | wire));
  }
  double(field: number, x: number): this {
    this.key(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    this.parts.push(...b);
    return this;
  }
  float(field: number, x: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    this.parts.push(...b);
    return this;
  }
  int64(field: number, x: number): this {
    this.key(field, 0);
    this.varint(BigInt(x));
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.key(field, 2);
    this.varint(BigInt(b.length));
    this.parts.push(...b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** Event { wall_time = 1; step = 2; file_version = 3 } */
export function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(1, wallTime).string(3, 'brain.Event:2').finish();
}

/** Event { wall_time = 1; step = 2; summary = 5 { repeated Value value = 1 { tag = 1; simple_value = 2 } } } */
export function scalarsEvent(wallTime: number, step: number, values: ReadonlyArray<[string, number]>): Uint8Array {
  const summary = new ProtoWriter();
  for (const [tag, x] of values) summary.bytes(1, new ProtoWriter().string(1, tag).float(2, x).finish());
  return new ProtoWriter().double(1, wallTime).int64(2, step).bytes(5, summary.finish()).finish();
}

/** Which metrics.jsonl fields become which TensorBoard tags. */
export const TENSORBOARD_TAGS: ReadonlyArray<[key: string, tag: string]> = [
  ['loss', 'train/loss'],
  ['lr', 'train/lr'],
  ['grad_norm', 'train/grad_norm'],
  ['samples_per_s', 'train/samples_per_s'],
];

function recordScalars(rec: MetricRecord): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const [key, tag] of TENSORBOARD_TAGS) {
    const v = rec[key];
    if (typeof v === 'number') out.push([tag, v]);
  }
  return out;
}

const wallTimeOf = (rec: MetricRecord, fallback: number): number =>
  typeof rec['time'] === 'number' ? (rec['time'] as number) : fallback;

/**
 * The run's TensorBoard event file, kept in step with metrics.jsonl: `reset(history)` rewrites it
 * (atomically, removing older event files of this directory, so a resumed run shows one continuous
 * curve), `append(rec)` adds one step, `appendEval(step, values)` the held-out evaluation (`eval/*`).
 * Point TensorBoard at the run directory: `tensorboard --logdir <run>`.
 */
export class TensorBoardWriter {
  private file: string | null = null;

  constructor(
    readonly dir: string,
    private readonly clock: () => number = () => Date.now() / 1000,
  ) {}

  /** A writer that appends to the newest event file already in `dir` (e.g. after training, for the evaluation). */
  static async existing(dir: string, clock?: () => number): Promise<TensorBoardWriter> {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('events.out.tfevents.'));
    if (names.length === 0)
      throw new MetricsError(`${dir} has no TensorBoard event file; it is written when training starts (trainLoop)`);
    const newest = names
      .sort((a, b) => Number(a.split('.')[3]) - Number(b.split('.')[3]) || a.localeCompare(b))
      .at(-1)!;
    const w = new TensorBoardWriter(dir, clock);
    w.file = join(dir, newest);
    return w;
  }

  /** The event file being written (after reset). */
  get path(): string | null {
    return this.file;
  }

  async reset(history: readonly MetricRecord[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const now = this.clock();
    const name = `events.out.tfevents.${Math.floor(now)}.${hostname()}`;
    const records = [tfRecord(fileVersionEvent(now))];
    for (const rec of history) {
      const scalars = recordScalars(rec);
      if (scalars.length > 0) records.push(tfRecord(scalarsEvent(wallTimeOf(rec, now), rec.step, scalars)));
    }
    const body = new Uint8Array(records.reduce((a, r) => a + r.length, 0));
    let o = 0;
    for (const r of records) {
      body.set(r, o);
      o += r.length;
    }
    await writeFileAtomic(join(this.dir, name), body);
    for (const old of await readdir(this.dir)) {
      if (old !== name && old.startsWith('events.out.tfevents.')) await rm(join(this.dir, old), { force: true });
    }
    this.file = join(this.dir, name);
  }

  private live(): string {
    if (this.file === null)
      throw new MetricsError('TensorBoardWriter: call reset(history) before append/appendEval (the trainer does)');
    return this.file;
  }

  async append(rec: MetricRecord): Promise<void> {
    const scalars = recordScalars(rec);
    if (scalars.length === 0) return;
    await appendFile(this.live(), tfRecord(scalarsEvent(wallTimeOf(rec, this.clock()), rec.step, scalars)));
  }

  /** Held-out evaluation scalars at `step`, tagged `eval/<name>` (e.g. eval/mse_base, eval/mse_fine_tuned). */
  async appendEval(step: number, values: Record<string, number>): Promise<void> {
    const scalars = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([k, v]): [string, number] => [`eval/${k}`, v]);
    if (scalars.length === 0) return;
    await appendFile(this.live(), tfRecord(scalarsEvent(this.clock(), step, scalars)));
  }
}
