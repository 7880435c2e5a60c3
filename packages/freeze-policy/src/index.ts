// Public API of @vla-lora/freeze-policy.
export {
  FreezePolicyError,
  InvalidPatternError,
  RuleMatchedNothingError,
  NothingTrainableError,
  NoParametersError,
  NoTrainableParametersError,
  NothingReachesLossError,
  DisconnectedParametersError,
  NonFiniteGradientError,
  GradientsNotRegisteredError,
  CheckpointedStageWithoutInputGradError,
} from './errors.js';
export { compilePattern } from './pattern.js';
export type { SegmentPattern } from './pattern.js';
export { FreezePolicy, train, freeze } from './policy.js';
export { parseRules } from './parse-rules.js';
export type {
  FreezeRule,
  RuleAction,
  NamedShape,
  Decision,
  PlanEntry,
  FreezePlan,
  FreezePolicyOptions,
} from './policy.js';
export {
  PI0_HEAD_RULES,
  LORA_RULES,
  loraPolicy,
  pi0LoraPolicy,
  pi0FullPaligemmaExpertLoraPolicy,
  fullFinetunePolicy,
  pi0FullFinetunePolicy,
} from './presets.js';
export { freezeReport, defaultModuleOf } from './report.js';
export type { FreezeReport, ModuleGroup } from './report.js';
export { peftTrainableLine, formatThousands, formatFixedLikePython } from './python-format.js';
export { applyFreezePolicy } from './variables.js';
export type { NamedVariables } from './variables.js';
export { preflightGradientFlow } from './preflight.js';
export type { PreflightOptions, PreflightReport, ParamGradient, ZeroGradient } from './preflight.js';
export { preflightGraph } from './graph-preflight.js';
export type { FlowStage, ModelFlow, GraphPreflightOptions, GraphPreflightReport } from './graph-preflight.js';
