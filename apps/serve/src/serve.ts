// vla-serve as a function: backend -> verified policy -> openpi WebSocket server.
import { startPolicyServer, type RunningPolicyServer } from '@vla-lora/policy-server';
import { ensureBackend, ServedPi0 } from '@vla-lora/pi0';
import type { ServeArgs } from './args.js';
import { configNamed, loadPolicy, type LoadedPolicy } from './load-policy.js';

export interface RunningServe {
  server: RunningPolicyServer;
  loaded: LoadedPolicy;
  served: ServedPi0;
  backend: string;
  /** Finishes in-flight requests, closes clients (1001) and the listener, frees the model. */
  close(): Promise<void>;
}

/** Loads and verifies the policy, then listens. Throws (nothing is served) on any refusal. */
export async function startServe(a: ServeArgs, log: (line: string) => void): Promise<RunningServe> {
  const backend = await ensureBackend(a.backend ?? configNamed(a.config).backend);
  log(backend.description);
  const { host, port, maxFrameBytes, seed, verbose, backend: _, ...policyArgs } = a;
  const loaded = await loadPolicy({ ...policyArgs, log });
  let served: ServedPi0;
  let server: RunningPolicyServer;
  try {
    served = new ServedPi0({ ...loaded, seed });
    server = await startPolicyServer({
      policy: served,
      host,
      port,
      maxFrameBytes,
      ...(verbose ? { log: (e: { event: string; [key: string]: unknown }) => log(JSON.stringify(e)) } : {}),
    });
  } catch (err) {
    loaded.dispose();
    throw err;
  }
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  log(
    `serving ${loaded.summary.config} (${loaded.summary.loraLine}) on ${server.url} — health: http://${shown}:${server.port}/healthz`,
  );
  log(`listening on port ${server.port}`);
  let closing: Promise<void> | null = null;
  return {
    server,
    loaded,
    served,
    backend: backend.description,
    close() {
      closing ??= (async () => {
        await server.close();
        loaded.dispose();
      })();
      return closing;
    },
  };
}
