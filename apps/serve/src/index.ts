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
export { LIBERO_REQUEST_KEYS, parseLiberoRequest, type LiberoRequest, type RequestShape } from './observation.js';
export { noiseFor, ServedPi0, type ServedPi0Options } from './served-policy.js';
export { startServe, type RunningServe } from './serve.js';
