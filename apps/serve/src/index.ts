// Public API of apps/serve (for embedding the server or testing it; the CLI is bin/vla-serve.mjs).
export {
  AdapterRefusedError,
  BaseWeightsRefusedError,
  NormStatsRefusedError,
  ServeError,
  ServeUsageError,
} from './errors.js';
export { parseServeArgs, type ParsedServeArgs, type ServeArgs } from './args.js';
export { loadPolicy, type LoadedPolicy, type LoadPolicyOptions, type LoadSummary } from './load-policy.js';
export { startServe, type RunningServe } from './serve.js';
