export { isLoraParam, peftKeyForParam } from './names.js';
export { collectCheckpoint, applyCheckpoint, assignTrainedWeights, variableToF32 } from './bridge.js';
export type { CheckpointableOptimizer } from './bridge.js';
