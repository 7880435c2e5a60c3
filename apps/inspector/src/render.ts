// The inspection as HTML (escaped strings; the page sets them as innerHTML of its result panel).
import type { Inspection } from './analyze.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = n / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x.toFixed(x < 10 ? 2 : 1)} ${units[i]}`;
}

const num = (n: number) => n.toLocaleString('en-US');

/** Rows shown in the tensor table (the rest are counted). */
export const MAX_ROWS = 500;

function readText(r: Inspection): string {
  if (r.requests !== undefined)
    return `fetched ${formatBytes(r.bytesRead)} in ${r.requests} HTTP range request${r.requests === 1 ? '' : 's'}`;
  const why =
    r.kind === 'PyTorch pickle'
      ? ' (the pickles and zip directories; no tensor data)'
      : r.adapter?.ok
        ? ': headers, then every LoRA tensor once for the checks'
        : r.kind === 'PEFT adapter'
          ? ''
          : ' (headers only)';
  return `read ${formatBytes(r.bytesRead)} in this browser${why}`;
}

export function renderInspection(r: Inspection): string {
  const parts: string[] = [];
  parts.push(
    `<h2 data-testid="title">${esc(r.title)}</h2><p class="kind" data-testid="kind">${esc(r.kind)} · ${formatBytes(r.totalBytes)} · ${readText(r)}</p>`,
  );
  if (r.error) {
    parts.push(
      `<div class="error" data-testid="error"><strong>${esc(r.error.name)}</strong><p>${esc(r.error.message)}</p></div>`,
    );
  }
  if (r.adapter) {
    const a = r.adapter;
    const body = a.ok
      ? `<strong>✔ ${esc(a.message)}</strong><p>${num(a.modules ?? 0)} modules; ranks ${esc(
          Object.entries(a.ranks ?? {})
            .map(([k, v]) => `r=${k} × ${v}`)
            .join(', '),
        )}</p>${(a.warnings ?? []).map((w) => `<p class="warn">⚠ ${esc(w)}</p>`).join('')}`
      : `<strong>✘ ${esc(a.error ?? 'Error')}</strong><p>${esc(a.message)}</p>${
          a.zeroHint
            ? `<p class="hint">Recover the weights from the ZeRO shards with:</p><pre data-testid="zero-hint">${esc(a.zeroHint)}</pre>`
            : ''
        }`;
    parts.push(
      `<section class="adapter ${a.ok ? 'ok' : 'bad'}" data-testid="adapter"><h3>PEFT adapter verification</h3>${body}</section>`,
    );
  }
  if (r.unsafeGlobals && r.unsafeGlobals.length > 0) {
    parts.push(
      `<section class="adapter bad" data-testid="unsafe"><h3>Hostile pickle: globals outside the allow-list</h3><p>Nothing was executed here, but <code>torch.load</code> would call these. Do not load this file with PyTorch.</p><ul>${r.unsafeGlobals
        .map((g) => `<li><code>${esc(g)}</code></li>`)
        .join('')}</ul></section>`,
    );
  }
  for (const n of r.notes) parts.push(`<p class="note">${esc(n)}</p>`);
  if (r.metadata && Object.keys(r.metadata).length > 0) {
    parts.push(
      `<h3>Metadata</h3><table class="meta">${Object.entries(r.metadata)
        .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v.length > 200 ? `${v.slice(0, 200)}…` : v)}</td></tr>`)
        .join('')}</table>`,
    );
  }
  if (r.dtypeTotals.length > 0) {
    const total = r.dtypeTotals.reduce(
      (a, t) => ({ tensors: a.tensors + t.tensors, values: a.values + t.values, bytes: a.bytes + t.bytes }),
      { tensors: 0, values: 0, bytes: 0 },
    );
    parts.push(
      `<h3>Totals by dtype</h3><table class="totals" data-testid="totals"><tr><th>dtype</th><th>tensors</th><th>values</th><th>bytes</th></tr>${r.dtypeTotals
        .map(
          (t) =>
            `<tr><td>${esc(t.dtype)}</td><td>${num(t.tensors)}</td><td>${num(t.values)}</td><td>${formatBytes(t.bytes)}</td></tr>`,
        )
        .join(
          '',
        )}<tr class="sum"><td>total</td><td>${num(total.tensors)}</td><td>${num(total.values)}</td><td>${formatBytes(total.bytes)}</td></tr></table>`,
    );
  }
  if (r.tensors.length > 0) {
    const shown = r.tensors.slice(0, MAX_ROWS);
    parts.push(
      `<h3>Tensors (${num(r.tensors.length)})</h3><table class="tensors" data-testid="tensors"><tr><th>name</th><th>dtype</th><th>shape</th><th>bytes</th></tr>${shown
        .map(
          (t) =>
            `<tr><td class="name">${esc(t.name)}</td><td>${esc(t.dtype)}</td><td>[${t.shape.join(', ')}]</td><td>${formatBytes(t.bytes)}</td></tr>`,
        )
        .join(
          '',
        )}</table>${r.tensors.length > shown.length ? `<p class="note">… and ${num(r.tensors.length - shown.length)} more</p>` : ''}`,
    );
  }
  return parts.join('\n');
}
