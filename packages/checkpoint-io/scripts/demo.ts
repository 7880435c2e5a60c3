// A real demo of @vla-lora/checkpoint-io on the shared fixtures (files made by PEFT, torch and
// DeepSpeed). Every line it prints is the result of a check it just ran; it exits 1 on any failure.
//   npx tsx packages/checkpoint-io/scripts/demo.ts        (root: pnpm demo)
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdapterPlaceholderError,
  loadPeftAdapter,
  openSafetensors,
  savePeftAdapter,
  verifyAdapter,
  writeSafetensorsSharded,
} from '../src/index.js';
import { inspect } from '../src/cli/inspect.js';
import { demoTorchConvert } from './demo-torch.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const fx = (p: string): string => join(FIXTURES, p);
const fmt = (n: number): string => n.toLocaleString('en-US');

class DemoCheckFailed extends Error {}
function check(ok: boolean, what: string): void {
  if (!ok) throw new DemoCheckFailed(`check failed: ${what}`);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'vla-ckpt-demo-'));
  try {
    console.log('@vla-lora/checkpoint-io demo on fixtures/ (ground truth written by PEFT 0.21, torch, DeepSpeed)\n');

    // 1. inspect a PEFT adapter without reading its tensor data
    const adapterDir = fx('peft-tiny-gemma/adapter');
    const ins = await inspect(adapterDir);
    const expected = JSON.parse(await readFile(fx('peft-tiny-gemma/expected.json'), 'utf8')) as {
      trainable: number;
      adapter_keys: string[];
    };
    const names = new Set(ins.tensors.map((t) => t.name));
    check(
      expected.adapter_keys.every((k) => names.has(k)),
      'adapter keys listed by PEFT are in the file',
    );
    console.log(
      `inspect  peft-tiny-gemma/adapter/adapter_model.safetensors: ${ins.totals.tensors} tensors, ${fmt(ins.totals.values)} values, ${Object.keys(ins.totals.byDtype).join('/')}, metadata ${JSON.stringify(ins.metadata)}`,
    );
    console.log(`         keys in PEFT's on-disk form, e.g. ${ins.tensors[0]!.name}`);

    // 2. verify it: pairs, ranks vs r, NaN/Inf, targets; counts equal PEFT's own trainable count
    const report = await verifyAdapter(adapterDir);
    check(report.loraValues === expected.trainable, 'LoRA values = trainable parameters PEFT reported');
    console.log(
      `verify   ${report.summary}  (= the ${fmt(expected.trainable)} trainable parameters PEFT reported), ${report.modules} A/B pairs at r=${report.config.r}, no NaN/Inf, every target module has weights`,
    );
    const rs = await verifyAdapter(fx('peft-tiny-gemma/rslora'));
    console.log(`verify   rslora: ${rs.summary}, use_rslora=${String(rs.config.use_rslora)}`);

    // 3. load + save: byte-identical to what PEFT wrote
    const adapter = await loadPeftAdapter(adapterDir);
    check(
      [...adapter.tensors.keys()].every((k) => k.includes('.default.')),
      'adapter name restored in memory',
    );
    const saved = join(work, 'adapter');
    await savePeftAdapter(saved, adapter);
    for (const f of ['adapter_model.safetensors', 'adapter_config.json']) {
      const [a, b] = await Promise.all([readFile(join(adapterDir, f)), readFile(join(saved, f))]);
      check(Buffer.compare(a, b) === 0, `${f} re-saved byte for byte`);
    }
    console.log(
      `load     ${adapter.tensors.size} tensors as "...lora_A.default.weight"; saved again: adapter_model.safetensors and adapter_config.json byte-identical to PEFT's`,
    );

    // 4. the ZeRO-3 placeholder is caught, with the way out
    const zeroDir = fx('zero/zero3-w4-bf16/checkpoint-5000');
    let caught: AdapterPlaceholderError | undefined;
    try {
      await verifyAdapter(zeroDir);
    } catch (err) {
      if (!(err instanceof AdapterPlaceholderError)) throw err;
      caught = err;
    }
    check(caught !== undefined && caught.zeroDir !== null, 'ZeRO-3 placeholder rejected with its global_step dir');
    console.log(`verify   zero/zero3-w4-bf16/checkpoint-5000 rejected: ${caught!.name}:`);
    console.log(`         ${caught!.message.replaceAll(FIXTURES, 'fixtures/')}`);

    // 5. a torch .pt state dict converted to safetensors, checked value by value
    await demoTorchConvert(work, fx, check);

    // 6. sharded write + transparent read of the base model
    const base = await openSafetensors(fx('peft-tiny-gemma/base/model.safetensors'));
    const list = base.list();
    const shardDir = join(work, 'sharded');
    const res = await writeSafetensorsSharded(
      shardDir,
      list.map((t) => ({
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        data: async () => (await base.read(t.name)).bytes,
      })),
      { maxShardSize: 128 * 1024, metadata: { format: 'pt' } },
    );
    const back = await openSafetensors(shardDir);
    let same = 0;
    for (const t of list)
      if (
        Buffer.compare(Buffer.from((await back.read(t.name)).bytes), Buffer.from((await base.read(t.name)).bytes)) === 0
      )
        same++;
    check(same === list.length, 'every tensor read back from the shards equals the original');
    console.log(
      `shards   base model (${list.length} tensors) -> ${res.files.length} shards + ${res.index}; read back through the directory: ${same}/${list.length} tensors identical`,
    );
    await Promise.all([base.close(), back.close()]);
    console.log('\nall checks passed');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  process.exitCode = 1;
});
