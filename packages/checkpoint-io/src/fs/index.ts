// Public API of checkpoint-io's fs module.
export { writeFileAtomic, withAtomicDir, createAtomicFile, fsyncDir } from './atomic.js';
export type { AtomicFile } from './atomic.js';
export { pathExists, isDirectory, isFile } from './stat.js';
export { freshOutputPath } from './fresh-output.js';
export { AtomicWriteError } from './errors.js';
