// vla-serve as a function: backend -> verified policy -> openpi WebSocket server.
import { startPolicyServer, type RunningPolicyServer } from '@vla-lora/policy-server';
import { ensureBackend, getTrainConfig, ServedPi0 } from '@vla-lora/pi0';
import type { ServeArgs } from './args.js';
import { ServeUsageError } from './errors.js';
import { loadPolicy, type LoadedPolicy } from './load-policy.js';

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
  let requested: string;
  try {
    requested = a.backend ?? getTrainConfig(a.config).backend;
  } catch (err) {
    throw new ServeUsageError((err as Error).message, { cause: err });
  }
  const backend = await ensureBackend(requested);
  log(backend.description);
  const loaded = await loadPolicy({
    config: a.config,
    baseWeights: a.baseWeights,
    seededBase: a.seededBase,
    adapter: a.adapter,
    trainable: a.trainable,
    normStats: a.normStats,
    dataRoot: a.dataRoot,
    merge: a.merge,
    allowUntrained: a.allowUntrained,
    tokenizer: a.tokenizer,
    log,
  });
  let served: ServedPi0;
  let server: RunningPolicyServer;
  try {
    served = new ServedPi0({
      policy: loaded.policy,
      trainConfig: loaded.trainConfig,
      normStats: loaded.normStats,
      seed: a.seed,
      summary: loaded.summary,
      tokenizer: loaded.tokenizer,
    });
    server = await startPolicyServer({
      policy: served,
      host: a.host,
      port: a.port,
      maxFrameBytes: a.maxFrameBytes,
      ...(a.verbose ? { log: (e: { event: string; [key: string]: unknown }) => log(JSON.stringify(e)) } : {}),
    });
  } catch (err) {
    loaded.dispose();
    throw err;
  }
  const shown = a.host === '0.0.0.0' || a.host === '::' ? '127.0.0.1' : a.host;
  log(
    `serving ${loaded.summary.config} (${loaded.summary.loraLine}) on ws://${a.host.includes(':') ? `[${a.host}]` : a.host}:${server.port} — health: http://${shown}:${server.port}/healthz`,
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
