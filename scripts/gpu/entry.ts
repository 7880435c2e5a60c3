// Bundle entry of the GPU check (esbuild, see prepare.sh): tfjs-core's gradients registered the
// bundle way, then the TypeScript side of the step benchmark.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

await import('../../packages/models/bench/gpu-step.js');
