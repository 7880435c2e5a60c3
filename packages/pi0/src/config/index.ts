export { getTrainConfig, listConfigs, configNames, OPENPI_OPTIM } from './registry.js';
export { applyOverrides } from './overrides.js';
export type { TrainConfig, OptimConfig, DataConfig } from './types.js';
