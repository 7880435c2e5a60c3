// `vla-ckpt convert <in> <out.safetensors> [--dtype keep|f32|bf16|f16]`: streams one tensor at a time.
import { createProgress } from '@vla-lora/cli-kit';
import { DTYPE_ITEMSIZE, type Dtype, type RawTensor } from '../dtype/dtypes.js';
import { f32ToBf16, f32ToF16 } from '../dtype/half.js';
import { castFloat, type FloatDtype } from '../dtype/convert.js';
import { writeSafetensors, type SafetensorsEntry } from '../safetensors/writer.js';
import { CliUsageError } from './errors.js';
import type { TensorInfo } from '../safetensors/header.js';
import { openTensorSource, type TensorSource } from './source.js';

export type ConvertDtype = 'keep' | 'f32' | 'bf16' | 'f16';
const TARGET: Record<Exclude<ConvertDtype, 'keep'>, FloatDtype> = { f32: 'F32', bf16: 'BF16', f16: 'F16' };
/** 1 MiB: small enough to stay in cache, large enough that syscalls do not dominate. */
const CHUNK_BYTES = 1 << 20;
const FLOATS = new Set<Dtype>(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

export interface ConvertResult {
  input: string;
  output: string;
  tensors: number;
  bytesIn: number;
  bytesOut: number;
}

/** One tensor's bytes, chunk by chunk, cast to `to` (memory stays at two chunk buffers whatever the tensor size). */
async function* castChunks(
  chunks: AsyncIterable<Uint8Array>,
  from: Dtype,
  to: Dtype,
  outBuf: Uint16Array,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of chunks) {
    if (to === from) yield chunk;
    else if (from === 'F32' && (to === 'BF16' || to === 'F16')) {
      const f = new Float32Array(chunk.buffer, chunk.byteOffset, chunk.byteLength / 4);
      const o = outBuf.subarray(0, f.length);
      if (to === 'BF16') f32ToBf16(f, o);
      else f32ToF16(f, o);
      yield new Uint8Array(o.buffer, o.byteOffset, o.byteLength);
    } else {
      yield castFloat({ dtype: from, shape: [chunk.byteLength / DTYPE_ITEMSIZE[from]], bytes: chunk }, to as FloatDtype)
        .bytes;
    }
  }
}

/** The safetensors entry of one tensor: streamed in chunks when the source can, else read whole when written. */
function entryFor(src: TensorSource, t: TensorInfo, to: Dtype, outBuf: Uint16Array): SafetensorsEntry {
  const readChunks = src.readChunks?.bind(src);
  if (readChunks) {
    return {
      name: t.name,
      dtype: to,
      shape: t.shape,
      data: { chunks: () => castChunks(readChunks(t.name, CHUNK_BYTES), t.dtype, to, outBuf) },
    };
  }
  return {
    name: t.name,
    dtype: to,
    shape: t.shape,
    data: async () => {
      const raw: RawTensor = await src.read(t.name);
      return to === raw.dtype ? raw.bytes : castFloat(raw, to as FloatDtype).bytes;
    },
  };
}

/** Converts any tensor source to one safetensors file; float tensors are cast when a dtype is given. */
export async function convertToSafetensors(
  input: string,
  output: string,
  opts: { dtype?: ConvertDtype; progress?: boolean } = {},
): Promise<ConvertResult> {
  const dtype = opts.dtype ?? 'keep';
  if (!['keep', 'f32', 'bf16', 'f16'].includes(dtype))
    throw new CliUsageError(`--dtype must be keep, f32, bf16 or f16 (got ${dtype})`);
  const src = await openTensorSource(input);
  try {
    const list = src.list();
    const outDtype = (d: Dtype): Dtype => (dtype !== 'keep' && FLOATS.has(d) ? TARGET[dtype] : d);
    const outBuf = new Uint16Array(CHUNK_BYTES / 2);
    const entries = list.map((t) => entryFor(src, t, outDtype(t.dtype), outBuf));
    const bytesIn = list.reduce((a, t) => a + t.byteLength, 0);
    let bytesOut = 0;
    const bar = opts.progress === false ? null : createProgress({ task: 'convert', total: bytesIn, unit: 'bytes' });
    let doneIn = 0;
    const sizeIn = new Map(list.map((t) => [t.name, t.byteLength]));
    await writeSafetensors(output, entries, {
      metadata: src.metadata ?? { format: 'pt' },
      onProgress: (p) => {
        bytesOut = p.bytes;
        doneIn += sizeIn.get(p.name) ?? 0;
        bar?.update(doneIn, { name: p.name });
      },
    });
    bar?.stop();
    return { input: src.path, output, tensors: list.length, bytesIn, bytesOut };
  } finally {
    await src.close();
  }
}
