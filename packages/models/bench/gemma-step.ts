// Benchmark: forward + backward + AdamW step of Gemma + LoRA (r=8 on all seven projections) on the
// selected tfjs backend, next to the same model and step in Debian's torch run by this script.
// Debian's python3-torch uses a generic reference BLAS: a correctness oracle, not a fair speed
// peer (docs/performance-notes.md); the ratio is printed with that caveat.
// Usage: npx tsx bench/run.ts gemma-step.ts [steps=3]     (VLA_BACKEND=wasm|cpu|... to choose)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { GemmaForCausalLM, parseGemmaConfig, SeededRandom } from '../src/index.js';

interface AdamWLike {
  step(grads: Map<string, tf.Tensor>, lr?: number): void;
}
type AdamWCtor = new (
  params: Map<string, tf.Variable>,
  opts: { lr: number; betas: [number, number]; eps: number; weightDecay: number },
) => AdamWLike;

const steps = Number(process.argv[2] ?? 3);
const info = await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'auto' });
// The trainer owns AdamW (torch semantics); models cannot depend on it (the trainer depends on models).
const { AdamW } = (await import(new URL('../../trainer/src/optim/index.ts', import.meta.url).href)) as {
  AdamW: AdamWCtor;
};

const tinyCfg = {
  vocab_size: 256,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  head_dim: 16,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  model_type: 'gemma',
};
const wideCfg = {
  ...tinyCfg,
  hidden_size: 512,
  intermediate_size: 2048,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  head_dim: 64,
};
const cases = [
  { name: 'tiny (fixture shapes) b2 s12', cfg: tinyCfg, batch: 2, seq: 12 },
  { name: 'tiny b8 s128', cfg: tinyCfg, batch: 8, seq: 128 },
  { name: 'wide h512 L4 b8 s128', cfg: wideCfg, batch: 8, seq: 128 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const loadavg = (await import('node:os')).loadavg();
const results = [];
for (const c of cases) {
  const model = GemmaForCausalLM.create(parseGemmaConfig(c.cfg), { init: 'random', rng: new SeededRandom(0) });
  injectLora(model, {
    r: 8,
    loraAlpha: 16,
    targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    initLoraWeights: 'gaussian',
    seed: 1,
  });
  const trainable = namedParameters(model).filter(([, v]) => v.trainable);
  const opt = new AdamW(new Map(trainable), { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01 });
  const rng = new SeededRandom(1);
  const ids = Array.from({ length: c.batch }, () =>
    Array.from({ length: c.seq }, () => Math.floor(rng.uniform() * c.cfg.vocab_size)),
  );
  const times: number[] = [];
  const cpu: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { value, grads } = tf.variableGrads(
      () => model.loss(ids, ids),
      trainable.map(([, v]) => v),
    );
    opt.step(new Map(trainable.map(([n, v]) => [n, grads[v.name]!])));
    value.dataSync();
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    if (s > 0) {
      // step 0 is warm-up
      times.push(performance.now() - t0);
      const u = process.cpuUsage(c0);
      cpu.push((u.user + u.system) / 1000);
    }
  }
  let torch: { torch: string; threads: number; msPerStep: number[]; cpuMsPerStep: number[] } | { error: string };
  try {
    const script = fileURLToPath(new URL('../scripts/torch_gemma.py', import.meta.url));
    const out = execFileSync(
      '/usr/bin/python3',
      [script, JSON.stringify({ config: c.cfg, batch: c.batch, seq: c.seq, rank: 8, steps })],
      { encoding: 'utf8', timeout: 600_000 },
    );
    torch = JSON.parse(out.trim().split('\n').pop()!) as {
      torch: string;
      threads: number;
      msPerStep: number[];
      cpuMsPerStep: number[];
    };
  } catch (e) {
    torch = { error: `Debian torch not available: ${(e as Error).message.split('\n')[0]}` };
  }
  const ours = median(times);
  const peer = 'msPerStep' in torch ? median(torch.msPerStep) : null;
  results.push({
    case: c.name,
    backend: info.name,
    tfjsMsPerStep: Math.round(ours),
    tfjsCpuMsPerStep: Math.round(median(cpu)),
    torchMsPerStep: peer === null ? null : Math.round(peer),
    torchCpuMsPerStep: 'cpuMsPerStep' in torch ? Math.round(median(torch.cpuMsPerStep)) : null,
    torch: 'torch' in torch ? `${torch.torch} (${torch.threads} threads, reference BLAS)` : torch.error,
    ratioTfjsOverTorch: peer === null ? null : Number((ours / peer).toFixed(2)),
    cpuRatioTfjsOverTorch:
      'cpuMsPerStep' in torch ? Number((median(cpu) / median(torch.cpuMsPerStep)).toFixed(2)) : null,
  });
  console.log(JSON.stringify(results[results.length - 1]));
}
console.log(
  `backend: ${info.description}; load average at start ${loadavg.map((x) => x.toFixed(1)).join(' ')}; ${steps} timed steps after 1 warm-up, median.`,
);
console.log('Caveat: Debian torch uses a reference BLAS (a correctness oracle, not a fair speed peer).');
