export { prepareRunDir } from './run-dir.js';
export type { PrepareRunDirOptions, PreparedRunDir } from './run-dir.js';
