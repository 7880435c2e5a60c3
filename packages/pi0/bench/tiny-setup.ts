// The fixed pi0_libero_lora_tiny step that bench:profile and bench:torch time: the model as trainPi0
// builds it (seeded init, LoRA injected, frozen by the config's policy), one batch from the synthetic
// dataset, noise and flow times drawn once, so every step does the identical work.
// Needs the synthetic dataset + norm stats (made here on first use, as `vla-train demo` does).
import { registerAllGradients } from '@vla-lora/tfjs-backend';

await registerAllGradients();
const tf = await import('@tensorflow/tfjs-core');
const t = { ...(await import('@vla-lora/trainer')), ...(await import('../src/index.js')) };
const { namedParameters } = await import('@vla-lora/lora-core');
const { sampleNoise, sampleFlowTime } = await import('@vla-lora/models');
type Scalar = import('@tensorflow/tfjs-core').Scalar;

/** Builds the tiny step on VLA_BACKEND (default: the config's backend) with data under VLA_DATA_ROOT. */
export async function tinyStepSetup() {
  const cfg = t.getTrainConfig('pi0_libero_lora_tiny');
  const B = cfg.data.batchSize;
  const info = await t.ensureBackend(process.env['VLA_BACKEND'] ?? cfg.backend);
  const logger = t.createLogger({ mode: 'silent' });
  const dataRoot = process.env['VLA_DATA_ROOT'] ?? '../../data';
  await t.ensureDataset(cfg, dataRoot, logger);
  await t.computeNormStatsForConfig(cfg, dataRoot, logger);
  const built = await t.buildPi0(cfg);
  const all = new Map(namedParameters(built.policy));
  const { trainable } = t.freezeWithPolicy(all, t.freezePolicyFor(cfg), logger);
  const stats = await t.loadNormStatsFor(cfg, dataRoot);
  const view = await t.openView(cfg, dataRoot, 'train', stats);
  const tok = new t.WordHashTokenizer(built.pi0.vocabSize, built.pi0.maxTokenLen);
  const data = new t.Pi0DataSource(view, built.pi0, tok, B, cfg.trainer.seed);
  const batch = await data.next();
  const rng = new t.RngStreams(cfg.trainer.seed);
  const [, H, A] = batch.actions.shape as [number, number, number];
  const noise = sampleNoise(rng.get('noise'), [B, H, A]);
  const times = sampleFlowTime(rng.get('time'), B);
  /** The mean flow-matching loss of the fixed batch (a scalar to differentiate). */
  const lossOf = (): Scalar =>
    tf.tidy(() => tf.mean(built.policy.computeLoss(batch, rng.get('noise'), { noise, times }))) as Scalar;
  const vars = [...trainable.values()].filter((v) => v.trainable);
  return { tf, t, cfg, B, info, built, trainable, data, batch, noise, times, lossOf, vars };
}
