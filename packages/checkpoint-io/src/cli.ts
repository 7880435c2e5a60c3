// vla-ckpt: the bin entry (bin/vla-ckpt.mjs imports this); the commands live in cli/main.ts.
import { main } from './cli/main.js';

process.exitCode = await main(process.argv.slice(2));
