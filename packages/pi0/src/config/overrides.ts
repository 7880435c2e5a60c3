// `--set key=value` overrides on dotted paths, type-checked against the existing value.
import { Pi0ConfigError } from '../errors.js';
import { getTrainConfig } from './registry.js';
import type { TrainConfig } from './types.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function leafPaths(v: Json, prefix = ''): string[] {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    return Object.entries(v).flatMap(([k, x]) => leafPaths(x, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

function parseValue(raw: string, current: Json, key: string): Json {
  const kind = current === null ? 'null' : Array.isArray(current) ? 'array' : typeof current;
  if (kind === 'string') return raw;
  let parsed: Json;
  try {
    parsed = JSON.parse(raw) as Json;
  } catch {
    throw new Pi0ConfigError(
      `--set ${key}=${raw}: "${raw}" is not a valid ${kind} (the key holds ${JSON.stringify(current)})`,
    );
  }
  const pk = parsed === null ? 'null' : Array.isArray(parsed) ? 'array' : typeof parsed;
  if (kind !== 'null' && pk !== kind) throw new Pi0ConfigError(`--set ${key}=${raw}: expected a ${kind}, got a ${pk}`);
  return parsed;
}

/** Applies `key=value` strings (dotted keys of the config). Unknown keys are errors that list close matches. */
export function applyOverrides(config: TrainConfig, sets: readonly string[]): TrainConfig {
  const out = structuredClone(config) as unknown as { [k: string]: Json };
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new Pi0ConfigError(`--set expects key=value, got "${s}"`);
    const key = s.slice(0, eq).trim();
    const raw = s.slice(eq + 1);
    const segs = key.split('.');
    let node: { [k: string]: Json } = out;
    for (let i = 0; i < segs.length - 1; i++) {
      const next = node[segs[i] as string];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) {
        node = {};
        break;
      }
      node = next;
    }
    const leaf = segs[segs.length - 1] as string;
    if (!(leaf in node) || key === 'name') {
      const all = leafPaths(out as Json).filter((p) => p !== 'name');
      const near = all.filter((p) => p.split('.').pop() === leaf || p.startsWith(segs[0] as string));
      throw new Pi0ConfigError(
        `--set ${key}: no such config key${key === 'name' ? ' (the name is chosen by the positional config argument)' : ''}; ${near.length ? `did you mean ${near.slice(0, 6).join(', ')}?` : `keys are ${all.join(', ')}`}`,
      );
    }
    node[leaf] = parseValue(raw, node[leaf] as Json, key);
  }
  return out as unknown as TrainConfig;
}

/** A registry config (getTrainConfig) with `--set` overrides applied, then `backend` (if given) as its tfjs backend. */
export function trainConfigFor(name: string, o: { set?: readonly string[]; backend?: string } = {}): TrainConfig {
  const cfg = applyOverrides(getTrainConfig(name), o.set ?? []);
  if (o.backend) cfg.backend = o.backend;
  return cfg;
}
