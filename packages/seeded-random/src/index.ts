export { type RandomSource, SeededRandom, type SeededRandomState, splitmix32 } from './seeded-random.js';
export { fnv1a32 } from './fnv1a.js';
