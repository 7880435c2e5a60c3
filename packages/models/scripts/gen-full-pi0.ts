// Writes a pi0 `model.safetensors` with the real names and shapes of a config (default: full-size
// 'pi0', 3.5 B parameters, ~7 GB in bfloat16) and random values: Linear weights, embeddings and
// biases N(0, 0.02); Gemma RMSNorm offsets 0 (scale 1); SigLIP LayerNorm weights 1, biases 0. For
// benchmarks and the streamed-weights path: not a trained model.
//
// Memory stays bounded: values are drawn into one 4 MiB chunk at a time (checkpoint-io's chunked,
// atomic safetensors writer), so the peak RSS does not depend on the model size.
//
// Usage: npx tsx scripts/gen-full-pi0.ts OUT.safetensors [--config pi0] [--seed 1] [--lora]
import { writeSafetensors, type SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { getPi0Config, pi0ParamSpecs, type ParamSpec } from '@vla-lora/gemma-config';
import { commandLine } from '../bench/args.js';

const args = process.argv.slice(2);
const { flag, positional: out } = commandLine(args);
if (out === undefined) {
  console.error('usage: gen-full-pi0.ts OUT.safetensors [--config pi0] [--seed 1]');
  process.exit(2);
}
const cfg = getPi0Config(flag('config', 'pi0'));
let state = Number(flag('seed', '1')) >>> 0 || 1;

// A table of 65,536 bf16 N(0, 0.02) values (Box-Muller on a seeded xorshift), indexed by a fast PRNG.
function xorshift(): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state;
}
const table = new Uint16Array(65536);
{
  const f = new Float32Array(1);
  const bits = new Uint32Array(f.buffer);
  for (let i = 0; i < table.length; i++) {
    const u1 = (xorshift() + 1) / 4294967297;
    const u2 = xorshift() / 4294967296;
    f[0] = 0.02 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    table[i] = (bits[0]! + 0x7fff + ((bits[0]! >>> 16) & 1)) >>> 16;
  }
}

const CHUNK = 4 * 1024 * 1024;
type Fill = 'normal' | 'ones' | 'zeros';
function fillOf(path: string): Fill {
  if (/vision_tower\..*(layer_norm\d|post_layernorm)\.weight$/.test(path)) return 'ones';
  if (/vision_tower\..*(layer_norm\d|post_layernorm)\.bias$/.test(path)) return 'zeros';
  if (/(layernorm|\.norm)\.weight$/.test(path)) return 'zeros'; // GemmaRMSNorm: * (1 + w)
  return 'normal';
}

function entry(spec: ParamSpec): SafetensorsEntry {
  const bf16 = spec.dtype === 'bfloat16';
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const item = bf16 ? 2 : 4;
  const fill = fillOf(spec.path);
  return {
    name: spec.path,
    dtype: bf16 ? 'BF16' : 'F32',
    shape: spec.shape,
    data: {
      chunks: async function* () {
        const buf = new Uint8Array(CHUNK);
        const u16 = new Uint16Array(buf.buffer);
        const f32 = new Float32Array(buf.buffer);
        let left = n;
        while (left > 0) {
          const k = Math.min(left, CHUNK / item);
          if (bf16) {
            if (fill === 'normal') for (let i = 0; i < k; i++) u16[i] = table[xorshift() & 0xffff]!;
            else u16.fill(fill === 'ones' ? 0x3f80 : 0, 0, k);
          } else {
            const f = new Float32Array(1);
            const b = new Uint32Array(f.buffer);
            if (fill === 'normal')
              for (let i = 0; i < k; i++) {
                b[0] = table[xorshift() & 0xffff]! << 16;
                f32[i] = f[0]!;
              }
            else f32.fill(fill === 'ones' ? 1 : 0, 0, k);
          }
          left -= k;
          yield buf.subarray(0, k * item);
        }
      },
    },
  };
}

const specs = pi0ParamSpecs(cfg).filter((s) => !/\.lora_(A|B)\./.test(s.path));
const names = specs.map((s) => ({ ...s, path: s.path.replace('.base_layer.', '.') }));
const total = names.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
const t0 = performance.now();
let lastPct = -1;
await writeSafetensors(
  out,
  names.map((s) => entry(s)),
  {
    metadata: { format: 'pt', generator: `vla-lora gen-full-pi0 (${cfg.name}, random values)` },
    onProgress: (p) => {
      const pct = Math.floor((100 * p.bytes) / p.totalBytes);
      if (pct >= lastPct + 5 || p.tensors === p.totalTensors) {
        lastPct = pct;
        console.log(
          JSON.stringify({ tensors: p.tensors, of: p.totalTensors, bytes: p.bytes, totalBytes: p.totalBytes, pct }),
        );
      }
    },
  },
);
const s = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    wrote: out,
    config: cfg.name,
    params: total,
    tensors: names.length,
    seconds: Number(s.toFixed(1)),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
