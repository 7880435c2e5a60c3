export { isLoraParam, peftKeyForParam } from './names.js';
export { collectCheckpoint, applyCheckpoint, variableToF32 } from './bridge.js';
export type { CheckpointableOptimizer } from './bridge.js';
