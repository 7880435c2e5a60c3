// Registers every tfjs-core gradient (tfjs-core alone registers none; training needs them).
//
// tfjs-core ships its gradients only as loose ESM files under dist/ whose relative imports have no
// file extension ("../ops/mul"): Node's ESM loader refuses them, and through a resolve hook the ~600
// files take seconds to load. src/vendor/tfjs-core-gradients.js is the same code bundled into one
// file by scripts/bundle-gradients.mjs; tfjs keeps its engine and kernel/gradient registries on
// globalThis, so the bundle's copy of the code registers into the one registry every copy uses.
//
// The resolve hook (scoped to tfjs-core's dist folder: tries "<specifier>.js" and "/index.js") is
// still installed, so that code importing '@tensorflow/tfjs-core/dist/...' directly also loads in
// plain Node once registerAllGradients (or initBackend) has run.
import '@tensorflow/tfjs-core';
import { register } from 'node:module';
import { TfjsBackendError } from './errors.js';

const HOOK_SOURCE = `
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    const parent = context.parentURL || '';
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    if (!relative || !parent.includes('/@tensorflow/tfjs-core/dist/') || specifier.endsWith('.js')) throw err;
    try {
      return await nextResolve(specifier + '.js', context);
    } catch {
      return await nextResolve(specifier + '/index.js', context);
    }
  }
}
`;

let hookInstalled = false;
let registering: Promise<void> | undefined;

/** Installs the tfjs-core dist resolve hook for this process (idempotent). */
export function installTfjsCoreResolveHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK_SOURCE)}`);
}

/** Registers all tfjs-core gradients once per process (idempotent, safe to call concurrently). */
export function registerAllGradients(): Promise<void> {
  registering ??= (async () => {
    installTfjsCoreResolveHook();
    const [bundle, core] = await Promise.all([
      import('./vendor/tfjs-core-gradients.js'),
      import('@tensorflow/tfjs-core'),
    ]);
    if (bundle.TFJS_CORE_VERSION !== core.version_core) {
      throw new TfjsBackendError(
        `the bundled tfjs-core gradients are from ${bundle.TFJS_CORE_VERSION} but @tensorflow/tfjs-core ${core.version_core} is installed; ` +
          'install @tensorflow/tfjs-core@' +
          bundle.TFJS_CORE_VERSION +
          ' or regenerate them with `node scripts/bundle-gradients.mjs` in @vla-lora/tfjs-backend',
      );
    }
  })();
  return registering;
}
