// Entry for the bench scripts: registers tfjs-core's gradients (and the resolve hook they need
// under plain Node/tsx) before anything imports them, then runs the named script.
// Usage: npx tsx bench/run.ts <script.ts> [args...]
import { registerAllGradients } from '@vla-lora/tfjs-backend';

const [script, ...rest] = process.argv.slice(2);
if (script === undefined) {
  console.error('usage: npx tsx bench/run.ts <script.ts> [args...]');
  process.exit(2);
}
await registerAllGradients();
process.argv = [process.argv[0]!, script, ...rest];
await import(new URL(script, import.meta.url).href);
