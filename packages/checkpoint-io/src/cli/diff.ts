// `vla-ckpt diff <a> <b>`: per-tensor max |a - b| (in float32/float64), plus names and shapes that differ.
import { numel } from '../dtype/dtypes.js';
import { toFloat32 } from '../dtype/convert.js';
import { openTensorSource, type TensorSource } from './source.js';

export interface TensorDiff {
  name: string;
  status: 'same-shape' | 'shape-mismatch' | 'only-a' | 'only-b';
  dtypeA?: string;
  dtypeB?: string;
  shapeA?: number[];
  shapeB?: number[];
  maxAbsDiff?: number;
}

export interface DiffResult {
  a: string;
  b: string;
  tensors: TensorDiff[];
  /** Largest max-abs-diff over tensors present in both with the same shape (NaN if any NaN differs). */
  maxAbsDiff: number;
  structureDiffers: boolean;
}

/** Opens both sources; when one fails the other is closed before the error is thrown. */
async function openBoth(pathA: string, pathB: string): Promise<[TensorSource, TensorSource]> {
  const [a, b] = await Promise.allSettled([openTensorSource(pathA), openTensorSource(pathB)]);
  if (a.status === 'fulfilled' && b.status === 'fulfilled') return [a.value, b.value];
  if (a.status === 'fulfilled') await a.value.close();
  if (b.status === 'fulfilled') await b.value.close();
  throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
}

export async function diffTensors(pathA: string, pathB: string): Promise<DiffResult> {
  const [a, b] = await openBoth(pathA, pathB);
  try {
    const listA = new Map(a.list().map((t) => [t.name, t]));
    const listB = new Map(b.list().map((t) => [t.name, t]));
    const out: TensorDiff[] = [];
    let overall = 0;
    let structureDiffers = false;
    for (const [name, ta] of listA) {
      const tb = listB.get(name);
      if (!tb) {
        out.push({ name, status: 'only-a', dtypeA: ta.dtype, shapeA: ta.shape });
        structureDiffers = true;
        continue;
      }
      if (ta.shape.length !== tb.shape.length || ta.shape.some((d, i) => d !== tb.shape[i])) {
        out.push({
          name,
          status: 'shape-mismatch',
          dtypeA: ta.dtype,
          dtypeB: tb.dtype,
          shapeA: ta.shape,
          shapeB: tb.shape,
        });
        structureDiffers = true;
        continue;
      }
      const [ra, rb] = [await a.read(name), await b.read(name)];
      const va = toFloat32(ra);
      const vb = toFloat32(rb);
      let max = 0;
      let nanMismatch = false;
      const n = numel(ta.shape);
      for (let i = 0; i < n; i++) {
        const x = va[i]!;
        const y = vb[i]!;
        if (x === y || (x !== x && y !== y)) continue; // equal, or NaN on both sides
        const d = Math.abs(x - y);
        if (d !== d) nanMismatch = true;
        else if (d > max) max = d;
      }
      if (nanMismatch) max = NaN;
      if (max !== max) overall = NaN;
      else if (overall === overall) overall = Math.max(overall, max);
      out.push({ name, status: 'same-shape', dtypeA: ta.dtype, dtypeB: tb.dtype, shapeA: ta.shape, maxAbsDiff: max });
    }
    for (const [name, tb] of listB) {
      if (!listA.has(name)) {
        out.push({ name, status: 'only-b', dtypeB: tb.dtype, shapeB: tb.shape });
        structureDiffers = true;
      }
    }
    return { a: a.path, b: b.path, tensors: out, maxAbsDiff: overall, structureDiffers };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

export function renderDiff(r: DiffResult): string {
  const lines = [`a: ${r.a}`, `b: ${r.b}`];
  const w = Math.min(80, Math.max(4, ...r.tensors.map((t) => t.name.length)));
  for (const t of r.tensors) {
    if (t.status === 'same-shape') {
      const dt = t.dtypeA === t.dtypeB ? t.dtypeA : `${t.dtypeA}/${t.dtypeB}`;
      lines.push(`  ${t.name.padEnd(w)}  ${String(dt).padEnd(9)}  max|a-b| = ${t.maxAbsDiff}`);
    } else if (t.status === 'shape-mismatch') {
      lines.push(`  ${t.name.padEnd(w)}  shape ${JSON.stringify(t.shapeA)} vs ${JSON.stringify(t.shapeB)}`);
    } else {
      lines.push(`  ${t.name.padEnd(w)}  only in ${t.status === 'only-a' ? 'a' : 'b'}`);
    }
  }
  const both = r.tensors.filter((t) => t.status === 'same-shape').length;
  lines.push(
    `${both} tensors compared, max |a-b| = ${r.maxAbsDiff}${r.structureDiffers ? `; ${r.tensors.length - both} tensors differ in name or shape` : ''}`,
  );
  return lines.join('\n');
}
