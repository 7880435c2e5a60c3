// torch dtype names (as checkpoint-io's .pt reader reports them) <-> safetensors dtypes, and the
// output dtype option.
import {
  castFloat,
  DTYPE_ITEMSIZE,
  numel,
  torchToSafetensorsDtype as ptToSafetensorsDtype,
  type Dtype,
  type TorchDtype,
} from '@vla-lora/checkpoint-io';
import { ZeroMergeUsageError } from './errors.js';

/** The safetensors dtype of a tensor read by checkpoint-io's .pt reader (its canonical torch names). */
export function torchToSafetensorsDtype(torchDtype: TorchDtype, what: string): Dtype {
  const d = ptToSafetensorsDtype(torchDtype);
  if (!d) throw new ZeroMergeUsageError(`${what}: torch dtype ${torchDtype} has no safetensors equivalent`);
  return d;
}

export function itemsizeOf(d: Dtype): number {
  return DTYPE_ITEMSIZE[d];
}

/** `--dtype`: keep what zero_to_fp32 reconstructs (fp32 trainable, 16-bit frozen), or cast all floats. */
export type OutputDtype = 'keep' | 'fp32' | 'bf16' | 'fp16';

export const OUTPUT_DTYPES: readonly OutputDtype[] = ['keep', 'fp32', 'bf16', 'fp16'];

const ALIASES: Record<string, OutputDtype> = {
  keep: 'keep',
  fp32: 'fp32',
  float32: 'fp32',
  f32: 'fp32',
  bf16: 'bf16',
  bfloat16: 'bf16',
  fp16: 'fp16',
  float16: 'fp16',
  f16: 'fp16',
  half: 'fp16',
};

export function parseOutputDtype(s: string): OutputDtype {
  const d = ALIASES[s.toLowerCase().replace(/^torch\./, '')];
  if (!d)
    throw new ZeroMergeUsageError(`unknown output dtype ${JSON.stringify(s)}; use one of ${OUTPUT_DTYPES.join(', ')}`);
  return d;
}

const FLOATS = new Set<Dtype>(['F64', 'F32', 'F16', 'BF16']);

/** The dtype a tensor of `source` dtype gets under `--dtype` (non-float tensors keep theirs). */
export function outputDtype(source: Dtype, option: OutputDtype): Dtype {
  if (option === 'keep' || !FLOATS.has(source)) return source;
  return option === 'fp32' ? 'F32' : option === 'bf16' ? 'BF16' : 'F16';
}

/** Converts little-endian bytes between float dtypes (round to nearest even, as torch's .to()). */
export function convertBytes(bytes: Uint8Array, from: Dtype, to: Dtype, shape: number[]): Uint8Array {
  if (from === to) return bytes;
  if (!FLOATS.has(from) || !FLOATS.has(to) || to === 'F64') {
    throw new ZeroMergeUsageError(`cannot convert ${from} to ${to}`);
  }
  return castFloat({ dtype: from, shape, bytes }, to as 'F32' | 'F16' | 'BF16').bytes;
}

export { numel };
