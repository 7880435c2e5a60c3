// Which backend was asked for: the flag wins, then VLA_BACKEND, then `auto`.
import { UnknownBackendError } from './errors.js';
import { BACKEND_REQUESTS, type BackendRequest } from './types.js';

export interface ResolvedRequest {
  requested: BackendRequest;
  source: 'flag' | 'env' | 'default';
}

function isRequest(v: string): v is BackendRequest {
  return (BACKEND_REQUESTS as readonly string[]).includes(v);
}

/** Resolves the backend request; blank values count as unset; unknown names throw UnknownBackendError. */
export function resolveBackendRequest(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): ResolvedRequest {
  const fromFlag = flag?.trim().toLowerCase();
  if (fromFlag) {
    if (!isRequest(fromFlag)) throw new UnknownBackendError(flag ?? '', 'flag', BACKEND_REQUESTS);
    return { requested: fromFlag, source: 'flag' };
  }
  const raw = env['VLA_BACKEND'];
  const fromEnv = raw?.trim().toLowerCase();
  if (fromEnv) {
    if (!isRequest(fromEnv)) throw new UnknownBackendError(raw ?? '', 'env', BACKEND_REQUESTS);
    return { requested: fromEnv, source: 'env' };
  }
  return { requested: 'auto', source: 'default' };
}
