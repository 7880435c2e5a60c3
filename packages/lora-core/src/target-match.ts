// Target matching lives in checkpoint-io's PEFT rulebook (one implementation for the verifier, this
// injector, merges, the trainer and serve); re-exported here for lora-core's API.
export {
  type TargetMatch,
  matchTarget,
  patternKey,
  rankAndAlphaFor,
  targetEntriesNaming,
  isAllLinear,
  expandAllLinear,
  isExcluded,
  isModuleToSave,
} from '@vla-lora/checkpoint-io';
