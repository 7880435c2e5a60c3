export { createLogger } from './logger.js';
export type { TrainLogger, LoggerOptions } from './logger.js';
