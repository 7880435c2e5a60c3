// Streamed merge of an adapter into a SHARDED bf16 base, checked bit for bit against Debian's torch
// (/usr/bin/python3) computing what PEFT's merge computes for a bf16 model with float32 LoRA weights:
// delta = (B @ A) * scaling in float32, then `weight.data += delta` — W.float() + delta rounded once
// to bf16. Skips visibly without torch.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromFloat32,
  openSafetensors,
  savePeftAdapter,
  toFloat32,
  writeSafetensorsSharded,
  type RawTensor,
  type SafetensorsEntry,
} from '@vla-lora/checkpoint-io';
import { mergeAdapterIntoSafetensors } from './merge-file.js';
import { lcgFloats } from '@vla-lora/seeded-random/test-support';
import { torchOracle } from '@vla-lora/vitest-config/oracle';

const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
if (!hasTorch) console.warn(`[merge-file.torch] SKIPPED: ${PY} with torch not available (apt install python3-torch)`);

const ORACLE = String.raw`
import json, sys, torch
req = json.load(sys.stdin)
out = {}
for t in req["tensors"]:
    o, i, r = t["out"], t["in"], t["r"]
    W = torch.tensor(t["w_bits"], dtype=torch.int32).to(torch.int16).view(torch.bfloat16).reshape(o, i)
    A = torch.tensor(t["a"], dtype=torch.float32).reshape(r, i)
    B = torch.tensor(t["b"], dtype=torch.float32).reshape(o, r)
    s = t["scaling"]
    peft = W.clone()
    peft += (B @ A) * s      # PEFT lora.Linear.merge: delta = (B @ A) * scaling; weight.data += delta
    brief = (W.float() + s * B.float() @ A.float()).to(torch.bfloat16)
    out[t["name"]] = {
        "peft": peft.view(torch.int16).reshape(-1).tolist(),
        "brief": brief.view(torch.int16).reshape(-1).tolist(),
    }
print(json.dumps({"torch": torch.__version__, "out": out}))
`;

/** Values uniform in [-width/2, width/2). */
const rand = (n: number, seed: number, width: number): Float32Array => lcgFloats(n, seed, width / 2);

const LAYERS = [
  { name: 'blocks.0.attn.qkv', out: 192, in: 160 },
  { name: 'blocks.0.mlp.fc1', out: 256, in: 160 },
  { name: 'blocks.1.attn.qkv', out: 192, in: 160 },
  { name: 'blocks.1.mlp.fc1', out: 256, in: 160 },
];
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lora-core-merge-torch-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(!hasTorch)('sharded bf16 merge vs torch', () => {
  it.each([
    ['alpha 16, r 6 (scaling 8/3)', { r: 6, lora_alpha: 16, use_rslora: false }],
    ['rsLoRA alpha 8, r 16 (scaling 2)', { r: 16, lora_alpha: 8, use_rslora: true }],
  ])('%s: every merged bf16 value equals torch; every other tensor byte-identical', async (label, cfg) => {
    const dir = join(tmp, label.replace(/\W+/g, '-'));
    const baseDir = join(dir, 'base');
    const entries: SafetensorsEntry[] = [];
    const bases = new Map<string, RawTensor>();
    LAYERS.forEach((l, i) => {
      const t = fromFloat32(rand(l.out * l.in, 10 + i, 0.2), [l.out, l.in], 'BF16');
      bases.set(`${l.name}.weight`, t);
      entries.push({ name: `${l.name}.weight`, dtype: 'BF16', shape: t.shape, data: t.bytes });
      const n = fromFloat32(rand(l.out, 50 + i, 1), [l.out], 'BF16');
      entries.push({ name: `${l.name}.bias`, dtype: 'BF16', shape: n.shape, data: n.bytes });
    });
    await writeSafetensorsSharded(baseDir, entries, { maxShardSize: 130_000, metadata: { format: 'pt' } });
    const tensors = new Map<string, RawTensor>();
    LAYERS.forEach((l, i) => {
      // B scaled up so the delta moves W by several bf16 ulps (a zero-ish B would test nothing)
      tensors.set(
        `base_model.model.${l.name}.lora_A.default.weight`,
        fromFloat32(rand(cfg.r * l.in, 90 + i, 0.5), [cfg.r, l.in], 'F32'),
      );
      tensors.set(
        `base_model.model.${l.name}.lora_B.default.weight`,
        fromFloat32(rand(l.out * cfg.r, 70 + i, 0.3), [l.out, cfg.r], 'F32'),
      );
    });
    const adapterDir = join(dir, 'adapter');
    await savePeftAdapter(adapterDir, {
      config: { peft_type: 'LORA', target_modules: ['qkv', 'fc1'], ...cfg },
      tensors,
    });

    const outDir = join(dir, 'merged');
    const rep = await mergeAdapterIntoSafetensors(baseDir, adapterDir, outDir, { blockBytes: 20_000 });
    const baseShards = (await readdir(baseDir)).filter((f) => f.endsWith('.safetensors'));
    expect(baseShards.length).toBeGreaterThan(1);
    expect(rep.output.kind).toBe('sharded');
    expect(rep.output.shards).toBeGreaterThan(1);
    const index = JSON.parse(await readFile(join(outDir, 'model.safetensors.index.json'), 'utf8')) as {
      weight_map: Record<string, string>;
    };
    expect(Object.keys(index.weight_map).sort()).toEqual(entries.map((e) => e.name).sort());

    const req = {
      tensors: LAYERS.map((l) => ({
        name: `${l.name}.weight`,
        out: l.out,
        in: l.in,
        r: cfg.r,
        scaling: rep.merged.find((m) => m.name === `${l.name}.weight`)!.scaling,
        w_bits: Array.from(new Int16Array(bases.get(`${l.name}.weight`)!.bytes.slice().buffer)),
        a: Array.from(toFloat32(tensors.get(`base_model.model.${l.name}.lora_A.default.weight`)!)),
        b: Array.from(toFloat32(tensors.get(`base_model.model.${l.name}.lora_B.default.weight`)!)),
      })),
    };
    const want = torchOracle<{ torch: string; out: Record<string, { peft: number[]; brief: number[] }> }>(ORACLE, req);
    const merged = await openSafetensors(outDir);
    const base = await openSafetensors(baseDir);
    try {
      let values = 0;
      let changed = 0;
      let briefDiffers = 0;
      const mismatches: string[] = [];
      for (const l of LAYERS) {
        const name = `${l.name}.weight`;
        const got = Array.from(new Int16Array((await merged.read(name)).bytes.slice().buffer));
        const w = want.out[name]!;
        const orig = new Int16Array(bases.get(name)!.bytes.slice().buffer);
        got.forEach((g, i) => {
          values++;
          if (g !== orig[i]) changed++;
          if (w.peft[i] !== w.brief[i]) briefDiffers++;
          if (g !== w.peft[i]) mismatches.push(`${name}[${i}]: ours ${g}, torch ${w.peft[i]}`);
        });
        // the other tensors are copied byte for byte
        const bias = `${l.name}.bias`;
        expect(Buffer.compare((await merged.read(bias)).bytes, (await base.read(bias)).bytes)).toBe(0);
      }
      console.log(
        `[merge-file.torch] ${label}: torch ${want.torch}: ${values} merged bf16 values, ${mismatches.length} differ from (W.float() + (B@A)*s).to(bf16); ${changed} changed by the merge; scale*B@A order differs from (B@A)*s in ${briefDiffers}`,
      );
      expect(mismatches.slice(0, 5)).toEqual([]);
      expect(changed).toBeGreaterThan(values / 2); // the delta was big enough to move most values
    } finally {
      await merged.close();
      await base.close();
    }
  });
});
