// `vla-ckpt inspect <file|dir> [--json]`
import { numel } from '../dtype/dtypes.js';
import type { PickleGlobalUse } from '../pt/torch/allowlist.js';
import { formatBytes, formatCount } from './format.js';
import { openTensorSource } from './source.js';

export interface InspectOptions {
  /**
   * List every global a pickle (.pt/.bin) names, allowed or not, instead of refusing a file whose globals are
   * not on the allow-list with UnsafePickleError (forensics: nothing is executed either way).
   */
  listGlobals?: boolean;
}

export interface InspectResult {
  path: string;
  kind: string;
  metadata: Record<string, string> | null;
  /** With `listGlobals`, for pickle files: every global named, and whether it is allowed. */
  globals?: PickleGlobalUse[];
  tensors: Array<{ name: string; dtype: string; shape: number[]; bytes: number; values: number }>;
  totals: {
    tensors: number;
    values: number;
    bytes: number;
    byDtype: Record<string, { tensors: number; values: number; bytes: number }>;
  };
}

export async function inspect(path: string, options: InspectOptions = {}): Promise<InspectResult> {
  const src = await openTensorSource(path, { unsafeGlobals: options.listGlobals ? 'list' : 'refuse' });
  try {
    const tensors = src
      .list()
      .map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: t.byteLength, values: numel(t.shape) }));
    const byDtype: InspectResult['totals']['byDtype'] = {};
    for (const t of tensors) {
      const d = (byDtype[t.dtype] ??= { tensors: 0, values: 0, bytes: 0 });
      d.tensors++;
      d.values += t.values;
      d.bytes += t.bytes;
    }
    return {
      path: src.path,
      kind: src.kind,
      metadata: src.metadata,
      ...(options.listGlobals ? { globals: src.globals ?? [] } : {}),
      tensors,
      totals: {
        tensors: tensors.length,
        values: tensors.reduce((a, t) => a + t.values, 0),
        bytes: tensors.reduce((a, t) => a + t.bytes, 0),
        byDtype,
      },
    };
  } finally {
    await src.close();
  }
}

export function renderInspect(r: InspectResult): string {
  const lines = [`${r.path} (${r.kind})`];
  if (r.metadata) lines.push(`metadata: ${JSON.stringify(r.metadata)}`);
  if (r.globals) lines.push(...renderGlobals(r.globals));
  const nameW = Math.min(80, Math.max(4, ...r.tensors.map((t) => t.name.length)));
  for (const t of r.tensors) {
    lines.push(
      `  ${t.name.padEnd(nameW)}  ${t.dtype.padEnd(7)}  ${JSON.stringify(t.shape).padEnd(16)}  ${formatBytes(t.bytes)}`,
    );
  }
  const dt = Object.entries(r.totals.byDtype)
    .map(([d, v]) => `${d}: ${v.tensors} tensors`)
    .join(', ');
  lines.push(
    `total: ${formatCount(r.totals.tensors)} tensors, ${formatCount(r.totals.values)} values, ${formatBytes(r.totals.bytes)}${dt ? ` (${dt})` : ''}`,
  );
  return lines.join('\n');
}

function renderGlobals(globals: PickleGlobalUse[]): string[] {
  const refused = globals.filter((g) => !g.allowed);
  const lines = [`pickle globals: ${globals.length} (${refused.length} not on the allow-list)`];
  for (const g of globals) lines.push(`  ${g.allowed ? 'allowed    ' : 'NOT ALLOWED'}  ${g.module}.${g.name}`);
  if (refused.length > 0)
    lines.push(
      'WARNING: do not open this file with torch.load: it would import and call the globals marked NOT ALLOWED',
    );
  return lines;
}
