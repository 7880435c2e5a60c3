export { getTrainConfig, listConfigs, configNames, OPENPI_OPTIM } from './registry.js';
export { applyOverrides, trainConfigFor } from './overrides.js';
export type { TrainConfig, OptimConfig, DataConfig } from './types.js';
