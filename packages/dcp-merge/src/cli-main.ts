// Entry point of the dcp-merge executable (bin/dcp-merge.mjs runs it); the commands live in cli.ts.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
