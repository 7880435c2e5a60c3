// Benchmark (not a test): samples/s of one pi0_libero_lora_tiny training step on the chosen backend.
//   VLA_BACKEND=wasm|cpu npx tsx bench/tiny-step.ts [steps] [batch]
// Needs the synthetic dataset + norm stats (run `vla-train demo` or `vla-train compute-norm-stats` once).
import { registerAllGradients } from '@vla-lora/tfjs-backend';

await registerAllGradients();
const tf = await import('@tensorflow/tfjs-core');
const t = { ...(await import('@vla-lora/trainer')), ...(await import('../src/index.js')) };
const steps = Number(process.argv[2] ?? 10);
const batch = Number(process.argv[3] ?? 8);
const cfg = t.getTrainConfig('pi0_libero_lora_tiny');
cfg.data.batchSize = batch;
const info = await t.ensureBackend(process.env['VLA_BACKEND'] ?? 'auto');
const logger = t.createLogger({ mode: 'silent' });
const dataRoot = process.env['VLA_DATA_ROOT'] ?? '../../data';
await t.ensureDataset(cfg, dataRoot, logger);
await t.computeNormStatsForConfig(cfg, dataRoot, logger);
const built = await t.buildPi0(cfg);
const { namedParameters } = await import('@vla-lora/lora-core');
const all = new Map(namedParameters(built.policy));
const { trainable } = t.freezeWithPolicy(all, t.freezePolicyFor(cfg), logger);
const stats = await t.loadNormStatsFor(cfg, dataRoot);
const view = await t.openView(cfg, dataRoot, 'train', stats);
const tok = new t.WordHashTokenizer(built.pi0.vocabSize, built.pi0.maxTokenLen);
const data = new t.Pi0DataSource(view, built.pi0, tok, batch, 1);
const lossFn = t.pi0Loss(built.policy);
const rng = new t.RngStreams(1);
const vars = [...trainable.values()].filter((v) => v.trainable);
let dataMs = 0;
let stepMs = 0;
for (let i = 0; i < steps + 2; i++) {
  const t0 = performance.now();
  const b = await data.next();
  const t1 = performance.now();
  const { value, grads } = tf.variableGrads(() => lossFn(b, rng), vars);
  await value.data();
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  data.disposeBatch(b);
  const t2 = performance.now();
  if (i >= 2) {
    dataMs += t1 - t0;
    stepMs += t2 - t1;
  }
}
console.log(
  JSON.stringify({
    backend: info.description,
    batch,
    steps,
    data_ms_per_batch: +(dataMs / steps).toFixed(1),
    fwd_bwd_ms_per_step: +(stepMs / steps).toFixed(1),
    samples_per_s: +((batch * steps * 1000) / (dataMs + stepMs)).toFixed(2),
  }),
);
