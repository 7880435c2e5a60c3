// Entry point of the zero-merge executable (bin/zero-merge.mjs runs it); the commands live in cli.ts.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
