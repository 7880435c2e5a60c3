// Registers every tfjs-core gradient (tfjs-core alone registers none; training needs them).
//
// tfjs-core ships its gradients only as loose ESM files under dist/ whose relative imports have no
// file extension ("../ops/mul"), which Node's ESM loader refuses. Bundlers (esbuild) resolve them
// and inline the import below; in plain Node we install a module-resolution hook, scoped to
// tfjs-core's dist folder, that tries "<specifier>.js" and "<specifier>/index.js". The loose files
// are a second copy of tfjs-core's code, but tfjs keeps its engine and kernel/gradient registries
// on globalThis, so the gradients land in the one registry every copy uses.
import { register } from 'node:module';

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

function installResolveHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK_SOURCE)}`);
}

/** Registers all tfjs-core gradients once per process (idempotent, safe to call concurrently). */
export function registerAllGradients(): Promise<void> {
  registering ??= (async () => {
    installResolveHook();
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  })();
  return registering;
}
