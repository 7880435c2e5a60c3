// torch dtype names (as checkpoint-io's .pt reader reports them) <-> safetensors dtypes, and the
// output dtype option.
import { castFloat, DTYPE_ITEMSIZE, numel, type Dtype } from '@vla-lora/checkpoint-io';
import { ZeroMergeUsageError } from './errors.js';

const TORCH_TO_ST: Record<string, Dtype> = {
  float64: 'F64',
  double: 'F64',
  float32: 'F32',
  float: 'F32',
  float16: 'F16',
  half: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  long: 'I64',
  int32: 'I32',
  int: 'I32',
  int16: 'I16',
  short: 'I16',
  int8: 'I8',
  uint8: 'U8',
  uint16: 'U16',
  uint32: 'U32',
  uint64: 'U64',
  bool: 'BOOL',
  float8_e4m3fn: 'F8_E4M3',
  float8_e5m2: 'F8_E5M2',
};

export function torchToSafetensorsDtype(torchDtype: string, what: string): Dtype {
  const d = TORCH_TO_ST[torchDtype.replace(/^torch\./, '')];
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
  if (!d) throw new ZeroMergeUsageError(`unknown output dtype ${JSON.stringify(s)}; use one of ${OUTPUT_DTYPES.join(', ')}`);
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
