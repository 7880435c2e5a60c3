// Public API of apps/serve (for embedding the server or testing it; the CLI is bin/vla-serve.mjs).
export { ServeError, ServeUsageError } from './errors.js';
export {
  AdapterRefusedError,
  BaseWeightsRefusedError,
  NormStatsRefusedError,
  TokenizerRefusedError,
} from '@vla-lora/pi0';
export { parseServeArgs, type ParsedServeArgs, type ServeArgs } from './args.js';
export { loadPolicy, type LoadedPolicy, type LoadPolicyOptions } from './load-policy.js';
export type { LoadSummary } from '@vla-lora/pi0';
export { startServe, type RunningServe } from './serve.js';
