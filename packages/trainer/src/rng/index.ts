export { Philox, philox4x32 } from './philox.js';
export type { PhiloxState } from './philox.js';
export { RngStreams, RNG_STREAMS } from './streams.js';
export type { RngStreamName, RngStreamsState } from './streams.js';
