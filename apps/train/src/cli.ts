// vla-train entry point. tfjs-core's gradient files are loose ESM without extensions; the resolve
// hook that lets plain Node load them (tfjs-backend's registerAllGradients) must be installed
// before anything imports them, so everything else is imported after it.
import { registerAllGradients } from '@vla-lora/tfjs-backend';

await registerAllGradients();
const { run } = await import('./main.js');
process.exitCode = await run(process.argv.slice(2));
