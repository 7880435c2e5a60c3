// A self-contained HTML report: loss and learning-rate curves as inline SVG (no scripts, no
// external resources), so it opens offline from the run directory.
import type { MetricRecord } from '@vla-lora/checkpoint-io';

export interface ReportOptions {
  title: string;
  /** Extra key/value lines shown above the charts (config name, backend, trainable params ...). */
  facts?: Array<[string, string]>;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(4).replace(/\.?0+$/, '');
}

/** One line chart as an SVG string. Non-finite points are skipped. */
export function lineChartSvg(
  points: Array<[number, number]>,
  opts: { title: string; yLabel: string; logY?: boolean; width?: number; height?: number },
): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 260;
  const m = { l: 80, r: 16, t: 28, b: 36 }; // room for 8-character tick labels beside the rotated axis title
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!opts.logY || y > 0));
  const head =
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.title)}">` +
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-family="sans-serif">${esc(opts.title)}</text>`;
  if (pts.length === 0)
    return `${head}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-family="sans-serif">no data</text></svg>`;
  const tY = (y: number) => (opts.logY ? Math.log10(y) : y);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => tY(p[1]));
  const x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  let y0 = Math.min(...ys);
  let y1 = Math.max(...ys);
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((tY(y) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const path = pts.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + ((y1 - y0) * i) / 4;
    const yy = H - m.b - ((H - m.t - m.b) * i) / 4;
    const label = opts.logY ? fmt(10 ** yv) : fmt(yv);
    ticks.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="#ddd"/><text x="${m.l - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end" font-size="11" font-family="sans-serif">${label}</text>`,
    );
    const xv = x0 + ((x1 - x0) * i) / 4;
    const xx = m.l + ((W - m.l - m.r) * i) / 4;
    ticks.push(
      `<text x="${xx.toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11" font-family="sans-serif">${fmt(Math.round(xv))}</text>`,
    );
  }
  return (
    `${head}${ticks.join('')}` +
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>` +
    `<text x="${W / 2}" y="${H - 4}" text-anchor="middle" font-size="12" font-family="sans-serif">step</text>` +
    `<text x="12" y="${H / 2}" text-anchor="middle" font-size="12" font-family="sans-serif" transform="rotate(-90 12 ${H / 2})">${esc(opts.yLabel)}</text>` +
    `<path d="${path}" fill="none" stroke="#1f77b4" stroke-width="1.5"/></svg>`
  );
}

const series = (h: readonly MetricRecord[], key: string): Array<[number, number]> =>
  h.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key] as number]);

/** The whole report page. */
export function renderReport(history: readonly MetricRecord[], opts: ReportOptions): string {
  const last = history[history.length - 1];
  const facts = [...(opts.facts ?? [])];
  if (last) {
    facts.push(['last step', String(last.step)]);
    if (typeof last['loss'] === 'number') facts.push(['last loss', fmt(last['loss'])]);
  }
  const rows = facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:720px}th{text-align:left;padding-right:16px;font-weight:600}td,th{font-size:14px}</style>
</head><body>
<h1>${esc(opts.title)}</h1>
<table>${rows}</table>
${lineChartSvg(series(history, 'loss'), { title: 'training loss', yLabel: 'loss', logY: true })}
${lineChartSvg(series(history, 'lr'), { title: 'learning rate', yLabel: 'lr' })}
${lineChartSvg(series(history, 'grad_norm'), { title: 'gradient norm (before clipping)', yLabel: 'grad norm', logY: true })}
</body></html>
`;
}
