// Public API of @vla-lora/policy-server.
export { BadRequestError, PolicyServerError, ServerConfigError, ServerShuttingDownError } from './errors.js';
export {
  NdArray,
  NpGeneric,
  float32NdArray,
  isNdArray,
  itemSize,
  makeNdArray,
  ndArrayToFloat64,
  uint8NdArray,
} from './protocol/ndarray.js';
export { packMessage, unpackMessage, type WireMap, type WireValue } from './protocol/msgpack-numpy.js';
export type { ServedPolicy } from './policy.js';
export { startPolicyServer, type PolicyServerOptions, type RunningPolicyServer } from './server.js';
