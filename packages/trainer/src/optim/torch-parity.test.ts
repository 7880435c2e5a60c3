// AdamW and clipGradNorm against the real torch (Debian's python3-torch 1.13) on random tensors.
// Skipped, with the reason printed, when /usr/bin/python3 cannot import torch.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { AdamW, type AdamWOptions } from './adamw.js';
import { clipGradNorm } from './clip.js';
import { lcgStates } from '@vla-lora/seeded-random/test-support';

const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', "import importlib.util as u, sys; sys.exit(0 if u.find_spec('torch') else 1)"], {
  encoding: 'utf8',
  timeout: 60_000,
}); // no import: seconds saved
const torchVersion: string | null = probe.status === 0 ? 'python3-torch' : null;
const skipReason =
  torchVersion === null
    ? `torch oracle unavailable: ${PY} finds no torch module (apt python3-torch) (${(probe.stderr || String(probe.error ?? '')).trim().split('\n').pop()})`
    : '';
if (torchVersion === null) console.warn(`[torch-parity] SKIPPED: ${skipReason}`);

const SCRIPT = String.raw`
import json, sys, torch
torch.set_num_threads(1)
def run(req):
  out = {}
  if req["kind"] == "adamw":
      names = list(req["params"].keys())
      ps = [torch.nn.Parameter(torch.tensor(req["params"][n]["data"], dtype=torch.float32).reshape(req["params"][n]["shape"])) for n in names]
      o = req["opts"]
      opt = torch.optim.AdamW(ps, lr=o["lr"], betas=tuple(o["betas"]), eps=o["eps"], weight_decay=o["weightDecay"])
      for k, step in enumerate(req["steps"]):
          for g in opt.param_groups:
              g["lr"] = step["lr"]
          for n, p in zip(names, ps):
              p.grad = torch.tensor(step["grads"][n], dtype=torch.float32).reshape(p.shape)
          opt.step()
      for n, p in zip(names, ps):
          st = opt.state[p]
          out[n] = {"p": p.detach().reshape(-1).tolist(), "m": st["exp_avg"].reshape(-1).tolist(), "v": st["exp_avg_sq"].reshape(-1).tolist(), "step": float(st["step"])}
  elif req["kind"] == "clip":
      gs = [torch.tensor(g["data"], dtype=torch.float32).reshape(g["shape"]) for g in req["grads"]]
      ps = [torch.nn.Parameter(torch.zeros_like(g)) for g in gs]
      for p, g in zip(ps, gs):
          p.grad = g.clone()
      total = torch.nn.utils.clip_grad_norm_(ps, req["max_norm"])
      out = {"total": float(total), "grads": [p.grad.reshape(-1).tolist() for p in ps]}
  return out
json.dump({"version": torch.__version__, "results": [run(r) for r in json.load(sys.stdin)]}, sys.stdout)
`;
import { maxAbsDiff } from '@vla-lora/vitest-config/compare';
import { torchOracle } from '@vla-lora/vitest-config/oracle';

function torchRun<T>(req: unknown): T {
  return torchOracle<T>(SCRIPT, req);
}

function randn(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  const next = lcgStates(seed);
  const u = (): number => (next() + 0.5) / 2 ** 32;
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) * scale;
  return out;
}

beforeAll(async () => {
  await initBackend({ backend: process.env['VLA_BACKEND'] === 'webgpu' ? 'webgpu' : 'wasm' });
});

const CASES: Array<{ label: string; opts: AdamWOptions }> = [
  {
    label: 'fixture hyper-parameters (lr 1e-3, betas .9/.95, eps 1e-8, wd .01)',
    opts: { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01 },
  },
  {
    label: 'torch defaults with a large lr and strong decay',
    opts: { lr: 0.05, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.1 },
  },
  {
    label: 'openpi (wd 1e-10) with a big eps',
    opts: { lr: 2.5e-5, betas: [0.9, 0.95], eps: 1e-3, weightDecay: 1e-10 },
  },
];
const SHAPES: Record<string, number[]> = {
  'x.lora_A.weight': [8, 64],
  'x.lora_B.weight': [64, 8],
  'head.bias': [5],
  scalarish: [1],
};
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Deterministic inputs of one AdamW case: initial values and 7 steps of (lr, grads). */
function adamwInputs(
  opts: AdamWOptions,
  caseIdx: number,
): { init: Record<string, Float32Array>; steps: Array<{ lr: number; grads: Record<string, Float32Array> }> } {
  const init: Record<string, Float32Array> = {};
  let seed = 17 + 1000 * caseIdx;
  for (const [n, s] of Object.entries(SHAPES)) init[n] = randn(size(s), seed++, 0.3);
  const steps = Array.from({ length: 7 }, (_, k) => ({
    lr: opts.lr * (k === 0 ? 0.1 : 1 - k / 10),
    grads: Object.fromEntries(
      Object.entries(SHAPES).map(([n, s]) => [
        n,
        randn(size(s), 5000 + 31 * k + seed++ + 1000 * caseIdx, k === 3 ? 1e-6 : 1 + k),
      ]),
    ), // step 3: tiny grads
  }));
  return { init, steps };
}
const CLIP_SHAPES = [[10, 7], [3], [4, 4, 4]];
const CLIP_NORMS = [1.0, 1e6];
const clipData = (): Float32Array[] => CLIP_SHAPES.map((s, i) => randn(size(s), 500 + i, 0.7));

type AdamWOut = Record<string, { p: number[]; m: number[]; v: number[]; step: number }>;
type ClipOut = { total: number; grads: number[][] };
let oracle: Array<AdamWOut | ClipOut> = [];

/** |a - b| <= tol * max(1, |b|) everywhere (moments are large: compare relatively). */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let x = 0;
  for (let i = 0; i < a.length; i++) x = Math.max(x, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return x;
}

describe.skipIf(torchVersion === null)(`parity with torch ${torchVersion ?? '(absent)'}`, () => {
  beforeAll(() => {
    // one python process for every case (importing torch takes seconds)
    const reqs: unknown[] = CASES.map(({ opts }, ci) => {
      const { init, steps } = adamwInputs(opts, ci);
      return {
        kind: 'adamw',
        opts,
        params: Object.fromEntries(
          Object.entries(SHAPES).map(([n, s]) => [n, { shape: s, data: Array.from(init[n]!) }]),
        ),
        steps: steps.map((st) => ({
          lr: st.lr,
          grads: Object.fromEntries(Object.entries(st.grads).map(([n, g]) => [n, Array.from(g)])),
        })),
      };
    });
    const cd = clipData();
    for (const maxNorm of CLIP_NORMS)
      reqs.push({
        kind: 'clip',
        max_norm: maxNorm,
        grads: CLIP_SHAPES.map((s, i) => ({ shape: s, data: Array.from(cd[i]!) })),
      });
    const res = torchRun<{ version: string; results: Array<AdamWOut | ClipOut> }>(reqs);
    console.log(`[torch-parity] oracle: torch ${res.version}`);
    oracle = res.results;
  });

  CASES.forEach(({ label, opts }, ci) => {
    it(`AdamW equals torch.optim.AdamW to 1e-6 over 7 steps: ${label}`, async () => {
      const { init, steps } = adamwInputs(opts, ci);
      const params = new Map(
        Object.entries(SHAPES).map(([n, s]) => [n, tf.variable(tf.tensor(init[n]!, s))] as [string, tf.Variable]),
      );
      const opt = new AdamW(params, opts);
      for (const st of steps) {
        const grads = new Map(
          Object.entries(st.grads).map(([n, g]) => [n, tf.tensor(g, SHAPES[n]!)] as [string, tf.Tensor]),
        );
        opt.step(grads, st.lr);
        tf.dispose([...grads.values()]);
      }
      const want = oracle[ci] as AdamWOut;
      const state = (await opt.exportState()).params;
      let worst = 0;
      for (const n of Object.keys(SHAPES)) {
        worst = Math.max(worst, maxAbsDiff(await params.get(n)!.data(), want[n]!.p));
        expect(maxRel(state.get(n)!.expAvg, want[n]!.m)).toBeLessThan(1e-6);
        expect(maxRel(state.get(n)!.expAvgSq, want[n]!.v)).toBeLessThan(1e-6);
        expect(state.get(n)!.step).toBe(want[n]!.step);
      }
      console.log(`[torch-parity] ${label}: max |p_ours - p_torch| = ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-6);
      opt.dispose();
    });
  });

  CLIP_NORMS.forEach((maxNorm, k) => {
    it(`clipGradNorm equals torch.nn.utils.clip_grad_norm_ (max_norm ${maxNorm})`, async () => {
      const data = clipData();
      const grads = new Map(CLIP_SHAPES.map((s, i) => [`g${i}`, tf.tensor(data[i]!, s)] as [string, tf.Tensor]));
      const ours = await clipGradNorm(grads, maxNorm);
      const want = oracle[CASES.length + k] as ClipOut;
      expect(Math.abs(ours.totalNorm - want.total)).toBeLessThan(1e-6 * want.total);
      for (const [i, g] of [...ours.grads.values()].entries())
        expect(maxAbsDiff(await g.data(), want.grads[i]!)).toBeLessThan(1e-6);
      if (maxNorm > want.total) expect(ours.coef).toBe(1);
      else expect(ours.coef).toBeLessThan(1);
    });
  });
});
