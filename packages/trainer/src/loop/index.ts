export { trainLoop } from './train-loop.js';
export type { TrainLoopOptions, TrainLoopResult, LoopOptimizer } from './train-loop.js';
export type { DataSource } from './data-source.js';
export { watchStopSignals, yieldToEventLoop } from './signals.js';
export type { StopSignal, StopWatch } from './signals.js';
