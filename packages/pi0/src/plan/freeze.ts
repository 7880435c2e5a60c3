import {
  pi0FullFinetunePolicy,
  pi0FullPaligemmaExpertLoraPolicy,
  pi0LoraPolicy,
  type FreezePolicy,
} from '@vla-lora/freeze-policy';
import type { TrainConfig } from '../config/index.js';

/** The freeze-policy preset a config names. */
export function freezePolicyFor(cfg: Pick<TrainConfig, 'freeze'>): FreezePolicy {
  switch (cfg.freeze) {
    case 'pi0_lora':
      return pi0LoraPolicy();
    case 'pi0_full_paligemma_expert_lora':
      return pi0FullPaligemmaExpertLoraPolicy();
    case 'pi0_full':
      return pi0FullFinetunePolicy();
  }
}
