// SYNTHETIC distributed checkpoint writer, for the benchmark only. It is NOT a reference: correctness ground truth
// is fixtures/dcp (written by PyTorch 2.13, checked against torch's own dcp_to_torch_save). This writes the layout
// of FileSystemWriter(single_file_per_rank=False): one `__<rank>_<n>.distcp` per chunk, each a torch.save zip of
// one tensor (checkpoint-io's writePt, which writes torch 2.x's zip format), plus a `.metadata` pickle of the DCP
// dataclasses (protocol 2, written by the small emitter below). Tensors are sharded on dim 0 across `world` ranks
// as FSDP2 does; every row's bytes are a function of (tensor index, row) so outputs can be checked.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PtTensorData, TORCH_DTYPE_ITEMSIZE, writePt, type TorchDtype } from '@vla-lora/checkpoint-io';

/** A few pickle opcodes, enough for DCP's dataclasses. */
class Emitter {
  private parts: Buffer[] = [Buffer.from([0x80, 2])];
  op(...b: number[]): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  global(module: string, name: string): this {
    this.parts.push(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    this.parts.push(Buffer.from([0x58]), len, b);
    return this;
  }
  int(n: number): this {
    const b = Buffer.alloc(5);
    b[0] = 0x4a; // BININT (signed 32-bit)
    b.writeInt32LE(n, 1);
    this.parts.push(b);
    return this;
  }
  mark = (): this => this.op(0x28);
  tuple = (): this => this.op(0x74);
  reduce = (): this => this.op(0x52);
  emptyTuple = (): this => this.op(0x29);
  newobj = (): this => this.op(0x81);
  emptyDict = (): this => this.op(0x7d);
  emptyList = (): this => this.op(0x5d);
  setitems = (): this => this.op(0x75);
  appends = (): this => this.op(0x65);
  build = (): this => this.op(0x62);
  none = (): this => this.op(0x4e);
  false = (): this => this.op(0x89);
  stop = (): Buffer => Buffer.concat([...this.parts, Buffer.from([0x2e])]);

  size(dims: number[]): this {
    this.global('torch', 'Size').mark();
    for (const d of dims) this.int(d);
    return this.tuple().op(0x85).reduce(); // Size((dims,))
  }
  /** NEWOBJ of a DCP dataclass followed by BUILD with a dict of `fill` items. */
  dataclass(module: string, name: string, fill: (e: this) => void): this {
    this.global(module, name).emptyTuple().newobj().emptyDict().mark();
    fill(this);
    return this.setitems().build();
  }
}

const META = 'torch.distributed.checkpoint.metadata';

export interface SyntheticTensor {
  name: string;
  dtype: TorchDtype;
  shape: number[];
}

export function rowBytes(t: SyntheticTensor): number {
  return t.shape.slice(1).reduce((a, b) => a * b, 1) * TORCH_DTYPE_ITEMSIZE[t.dtype];
}

/** Row `r` of tensor `ti` (deterministic pattern). */
export function fillRow(out: Uint8Array, ti: number, r: number): void {
  const seed = (ti * 131 + r * 7) & 0xff;
  for (let j = 0; j < out.length; j++) out[j] = (seed + j * 13) & 0xff;
}

/** Writes a synthetic DCP checkpoint with every tensor under key "model", dim 0 split over `world` ranks — or, with
 * `splitDim: 1`, 2-D tensors split on dim 1 (tensor-parallel style, each chunk's rows interleave in the output). */
export async function writeSyntheticDcp(
  dir: string,
  tensors: SyntheticTensor[],
  world: number,
  splitDim: 0 | 1 = 0,
): Promise<number> {
  await mkdir(dir, { recursive: true });
  const e = new Emitter();
  const storage: Array<{ fqn: string; offsets: number[]; file: string; length: number; index: number }> = [];
  const chunks: Array<Array<{ offsets: number[]; sizes: number[] }>> = [];
  const fileCount = new Array<number>(world).fill(0);
  let total = 0;
  for (const [ti, t] of tensors.entries()) {
    const dim = splitDim === 1 && t.shape.length === 2 ? 1 : 0;
    const extent = t.shape[dim] as number;
    const per = Math.ceil(extent / world);
    const list: Array<{ offsets: number[]; sizes: number[] }> = [];
    for (let r = 0; r < world; r++) {
      const r0 = r * per;
      const r1 = Math.min(extent, r0 + per);
      if (r1 <= r0) continue;
      const sizes = [...t.shape];
      sizes[dim] = r1 - r0;
      const offsets = t.shape.map(() => 0);
      offsets[dim] = r0;
      const file = `__${r}_${fileCount[r]}.distcp`;
      fileCount[r] = (fileCount[r] as number) + 1;
      const rb = rowBytes(t);
      const isz = TORCH_DTYPE_ITEMSIZE[t.dtype];
      const bytes = async (): Promise<Uint8Array> => {
        if (dim === 0) {
          const out = new Uint8Array((r1 - r0) * rb);
          for (let i = r0; i < r1; i++) fillRow(out.subarray((i - r0) * rb, (i - r0 + 1) * rb), ti, i);
          return out;
        }
        // columns [r0, r1) of every row
        const rows = t.shape[0] as number;
        const w = (r1 - r0) * isz;
        const out = new Uint8Array(rows * w);
        const row = new Uint8Array(rb);
        for (let i = 0; i < rows; i++) {
          fillRow(row, ti, i);
          out.set(row.subarray(r0 * isz, r1 * isz), i * w);
        }
        return out;
      };
      await writePt(join(dir, file), new PtTensorData(t.dtype, sizes, bytes), { archiveName: 'archive' });
      const { size } = await import('node:fs/promises').then((fs) => fs.stat(join(dir, file)));
      storage.push({ fqn: `model.${t.name}`, offsets, file, length: size, index: list.length });
      list.push({ offsets, sizes });
      total += size;
    }
    chunks.push(list);
  }
  // Metadata(state_dict_metadata=..., planner_data=..., storage_data=..., storage_meta=None, version="1.0.0")
  e.dataclass(META, 'Metadata', (m) => {
    m.str('state_dict_metadata').emptyDict().mark();
    for (const [ti, t] of tensors.entries()) {
      m.str(`model.${t.name}`).dataclass(META, 'TensorStorageMetadata', (x) => {
        x.str('properties');
        x.global(META, 'TensorProperties').emptyTuple().newobj();
        x.mark().global('torch', t.dtype);
        x.global('torch.serialization', '_get_layout').str('torch.strided').op(0x85).reduce();
        x.false();
        x.global(META, '_MEM_FORMAT_ENCODING').int(0).op(0x85).reduce();
        x.false().tuple().build();
        x.str('size').size(t.shape);
        x.str('chunks').emptyList().mark();
        for (const c of chunks[ti] ?? [])
          x.dataclass(META, 'ChunkStorageMetadata', (y) => {
            y.str('offsets').size(c.offsets).str('sizes').size(c.sizes);
          });
        x.appends();
      });
    }
    m.setitems();
    m.str('planner_data').emptyDict().mark();
    for (const t of tensors) m.str(`model.${t.name}`).mark().str('model').str(t.name).tuple();
    m.setitems();
    m.str('storage_data').emptyDict().mark();
    for (const s of storage) {
      m.dataclass(META, 'MetadataIndex', (x) => {
        x.str('fqn').str(s.fqn).str('offset').size(s.offsets).str('index').int(s.index);
      });
      m.dataclass('torch.distributed.checkpoint.filesystem', '_StorageInfo', (x) => {
        x.str('relative_path').str(s.file).str('offset').int(0).str('length').int(s.length);
      });
    }
    m.setitems();
    m.str('storage_meta').none().str('version').str('1.0.0');
  });
  await writeFile(join(dir, '.metadata'), e.stop());
  return total;
}
