// A config's identity: sha256 of its canonical JSON (object keys sorted, no whitespace), so that
// key order or formatting never changes the hash but any value does.
import { createHash } from 'node:crypto';
import type { JsonValue } from './types.js';

/** Canonical JSON: keys sorted recursively, `undefined` members dropped, non-finite numbers rejected. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not representable in JSON`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => value[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`;
}

/** `sha256:<hex>` of the canonical JSON of `config`. */
export function hashConfig(config: JsonValue): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex')}`;
}

/** Dotted paths whose values differ between two configs (for a readable mismatch message). */
export function diffConfigKeys(a: JsonValue, b: JsonValue, prefix = ''): string[] {
  const isObj = (v: JsonValue): v is { [k: string]: JsonValue } =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    const out: string[] = [];
    for (const k of [...keys].sort()) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (!(k in a) || !(k in b)) out.push(p);
      else out.push(...diffConfigKeys(a[k] as JsonValue, b[k] as JsonValue, p));
    }
    return out;
  }
  return canonicalJson(a) === canonicalJson(b) ? [] : [prefix || '(root)'];
}
