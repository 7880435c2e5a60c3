// vla-serve's flags -> @vla-lora/pi0's loadTrainedPi0 (which builds, verifies and loads everything).
// Only the usage checks live here: the config name must be known, and the base model must be said
// (--base-weights, or --seeded-base for a run trained without base weights).
import {
  getTrainConfig,
  type LoadedTrainedPi0,
  type LoadTrainedPi0Options,
  loadTrainedPi0,
  type TrainConfig,
} from '@vla-lora/pi0';
import { ServeUsageError } from './errors.js';

/** pi0's loader options, with the config by name and the base said explicitly (see loadPolicy). */
export interface LoadPolicyOptions extends Omit<LoadTrainedPi0Options, 'config' | 'baseWeights'> {
  /** A train config name of @vla-lora/pi0's registry (e.g. pi0_libero_lora_tiny). */
  config: string;
  /** openpi PyTorch-layout weights: a model.safetensors file or a directory holding one. */
  baseWeights?: string | null;
  /** The base is the config's seeded random init, as `vla-train` builds it without --base-weights. */
  seededBase?: boolean;
}

export type LoadedPolicy = LoadedTrainedPi0;

/** The registry config `name`; an unknown name is a usage error (its message lists the known names). */
export function configNamed(name: string): TrainConfig {
  try {
    return getTrainConfig(name);
  } catch (err) {
    throw new ServeUsageError((err as Error).message, { cause: err });
  }
}

/** Checks the usage, then loads; throws ServeUsageError, or pi0's AdapterRefusedError / BaseWeightsRefusedError / NormStatsRefusedError. */
export async function loadPolicy(o: LoadPolicyOptions): Promise<LoadedPolicy> {
  const config = configNamed(o.config);
  if (!o.baseWeights && !o.seededBase) {
    throw new ServeUsageError(
      'say which base model the adapter applies to: --base-weights DIR (openpi PyTorch-layout model.safetensors), or --seeded-base for a run trained without --base-weights',
    );
  }
  if (o.baseWeights && o.seededBase) throw new ServeUsageError('--base-weights and --seeded-base exclude each other');
  const { seededBase, ...rest } = o;
  return loadTrainedPi0({ ...rest, config, baseWeights: seededBase ? null : (o.baseWeights ?? null) });
}
