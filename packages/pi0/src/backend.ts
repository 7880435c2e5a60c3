// One backend per process: initialised once (tfjs backends are process-global), described in the log.
import { initBackend, type BackendInfo } from '@vla-lora/tfjs-backend';

let current: { requested: string; info: BackendInfo } | null = null;

export async function ensureBackend(requested: string): Promise<BackendInfo> {
  if (current) return current.info;
  const info = await initBackend({ backend: requested });
  current = { requested, info };
  return info;
}
