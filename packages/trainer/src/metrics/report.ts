// A self-contained HTML report: loss and learning-rate curves as inline SVG (no scripts, no
// external resources), so it opens offline from the run directory.
import type { MetricRecord } from '@vla-lora/checkpoint-io';
import { MetricsError } from '../errors.js';

export interface ReportOptions {
  title: string;
  /** Extra key/value lines shown above the charts (config name, backend, trainable params ...). */
  facts?: Array<[string, string]>;
  /** TensorBoard's smoothing weight for the loss and throughput curves (0 = none; default 0.6). */
  smoothing?: number;
  /** Held-out evaluation, base vs fine-tuned (omitted until it has run). */
  evaluation?: EvaluationSummary;
}

/** A held-out evaluation of the base and the fine-tuned model: lower is better for every metric. */
export interface EvaluationSummary {
  /** What was evaluated, e.g. "32 held-out chunks of the test split, 10 Euler steps". */
  description: string;
  metrics: Array<{ name: string; base: number; fineTuned: number }>;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function fmt(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e4 || a < 1e-3 ? x.toExponential(2) : x.toPrecision(4).replace(/\.?0+$/, '');
}

/** One line of a chart. */
export interface ChartSeries {
  points: Array<[number, number]>;
  label: string;
  color: string;
  /** Stroke width (default 1.5). */
  width?: number;
  /** Stroke opacity (default 1). */
  opacity?: number;
}

/**
 * TensorBoard's scalar smoothing: an exponential moving average with debiasing (the first points are
 * divided by 1 - weight^n so the curve does not start at 0); non-finite points pass through, and a
 * constant series is left as is. `weight` is TensorBoard's "Smoothing" slider (0 = none, default 0.6).
 */
export function smoothSeries(points: ReadonlyArray<[number, number]>, weight = 0.6): Array<[number, number]> {
  const constant = points.every((p) => p[1] === points[0]?.[1]);
  let last = 0;
  let n = 0;
  return points.map(([x, y]) => {
    if (constant || !Number.isFinite(y)) return [x, y];
    last = last * weight + (1 - weight) * y;
    n++;
    const debias = weight === 1 ? 1 : 1 - weight ** n;
    return [x, last / debias];
  });
}

/** A line chart as an SVG string (several series share the axes; a legend when more than one). */
export function chartSvg(
  series: readonly ChartSeries[],
  opts: { title: string; yLabel: string; logY?: boolean; width?: number; height?: number },
): string {
  const W = opts.width ?? 640;
  const H = opts.height ?? 260;
  const m = { l: 80, r: 16, t: 28, b: 36 }; // room for 8-character tick labels beside the rotated axis title
  const keep = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y) && (!opts.logY || y > 0);
  const lines = series.map((s) => ({ ...s, points: s.points.filter(keep) }));
  const pts = lines.flatMap((s) => s.points);
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
  const paths = lines
    .filter((s) => s.points.length > 0)
    .map((s) => {
      const d = s.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
      const dot =
        s.points.length === 1
          ? `<circle cx="${px(s.points[0]![0]).toFixed(1)}" cy="${py(s.points[0]![1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`
          : '';
      return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.5}" stroke-opacity="${s.opacity ?? 1}"><title>${esc(s.label)}</title></path>${dot}`;
    })
    .join('');
  const legend =
    lines.length > 1
      ? `<rect x="${W - m.r - 156}" y="${m.t - 4}" width="150" height="${lines.length * 16 + 4}" fill="#fff" fill-opacity="0.85"/>` +
        lines
          .map((s, i) => {
            const x = W - m.r - 150;
            const y = m.t + 6 + i * 16;
            return `<line x1="${x}" x2="${x + 18}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="${s.width ?? 1.5}" stroke-opacity="${s.opacity ?? 1}"/><text x="${x + 24}" y="${y + 4}" font-size="11" font-family="sans-serif">${esc(s.label)}</text>`;
          })
          .join('')
      : '';
  return (
    `${head}${ticks.join('')}` +
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#333"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#333"/>` +
    `<text x="${W / 2}" y="${H - 4}" text-anchor="middle" font-size="12" font-family="sans-serif">step</text>` +
    `<text x="12" y="${H / 2}" text-anchor="middle" font-size="12" font-family="sans-serif" transform="rotate(-90 12 ${H / 2})">${esc(opts.yLabel)}</text>` +
    `${paths}${legend}</svg>`
  );
}

/** One line chart as an SVG string. Non-finite points are skipped. */
export function lineChartSvg(
  points: Array<[number, number]>,
  opts: { title: string; yLabel: string; logY?: boolean; width?: number; height?: number },
): string {
  return chartSvg([{ points, label: opts.yLabel, color: '#1f77b4' }], opts);
}

/** Raw (faint) and TensorBoard-smoothed (solid) versions of one series. */
function rawAndSmoothed(points: Array<[number, number]>, weight: number, color: string): ChartSeries[] {
  return [
    { points, label: 'raw', color, width: 1, opacity: 0.3 },
    { points: smoothSeries(points, weight), label: `smoothed (${weight})`, color, width: 2 },
  ];
}

const series = (h: readonly MetricRecord[], key: string): Array<[number, number]> =>
  h.filter((r) => typeof r[key] === 'number').map((r) => [r.step, r[key] as number]);

/** Where report.html holds the evaluation section (empty until an evaluation is added). */
export const EVALUATION_START = '<!--evaluation-->';
export const EVALUATION_END = '<!--/evaluation-->';

/** Puts (or replaces) the evaluation section of a rendered report; other content is left byte for byte. */
export function withEvaluation(html: string, e: EvaluationSummary): string {
  const a = html.indexOf(EVALUATION_START);
  const b = html.indexOf(EVALUATION_END);
  if (a < 0 || b < a)
    throw new MetricsError('report.html has no evaluation section (it was written by an older version); re-render it');
  return html.slice(0, a + EVALUATION_START.length) + evaluationHtml(e) + html.slice(b);
}

export function evaluationHtml(e: EvaluationSummary): string {
  const rows = e.metrics
    .map((x) => {
      const change = x.base !== 0 ? ((x.fineTuned - x.base) / Math.abs(x.base)) * 100 : Number.NaN;
      const better = x.fineTuned < x.base;
      const max = Math.max(Math.abs(x.base), Math.abs(x.fineTuned)) || 1;
      const bar = (v: number, color: string) =>
        `<div style="background:${color};height:10px;width:${Math.max(1, Math.round((Math.abs(v) / max) * 200))}px"></div>`;
      return (
        `<tr><th>${esc(x.name)}</th><td>${fmt(x.base)}${bar(x.base, '#999')}</td><td>${fmt(x.fineTuned)}${bar(x.fineTuned, better ? '#2ca02c' : '#d62728')}</td>` +
        `<td style="color:${better ? '#2ca02c' : '#d62728'}">${Number.isFinite(change) ? `${change > 0 ? '+' : ''}${change.toFixed(1)} %` : '–'}</td></tr>`
      );
    })
    .join('');
  return `<h2>Held-out evaluation</h2><p>${esc(e.description)}. Lower is better.</p>
<table class="eval"><tr><th></th><th>base</th><th>fine-tuned</th><th>change</th></tr>${rows}</table>`;
}

/** The whole report page. */
export function renderReport(history: readonly MetricRecord[], opts: ReportOptions): string {
  const last = history[history.length - 1];
  const w = opts.smoothing ?? 0.6;
  const facts = [...(opts.facts ?? [])];
  if (last) {
    facts.push(['last step', String(last.step)]);
    if (typeof last['loss'] === 'number') facts.push(['last loss', fmt(last['loss'])]);
    const loss = series(history, 'loss');
    if (loss.length > 0) facts.push([`smoothed loss (${w})`, fmt(smoothSeries(loss, w).at(-1)![1])]);
    const sps = series(history, 'samples_per_s').map((p) => p[1]);
    if (sps.length > 0) facts.push(['median throughput', `${fmt(median(sps))} samples/s`]);
  }
  const rows = facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)}</title>
<style>body{font-family:sans-serif;margin:24px;max-width:720px}th{text-align:left;padding-right:16px;font-weight:600}td,th{font-size:14px}table.eval td{padding-right:16px;vertical-align:top}h2{font-size:18px;margin-top:24px}</style>
</head><body>
<h1>${esc(opts.title)}</h1>
<table>${rows}</table>
${EVALUATION_START}${opts.evaluation ? evaluationHtml(opts.evaluation) : ''}${EVALUATION_END}
${chartSvg(rawAndSmoothed(series(history, 'loss'), w, '#1f77b4'), { title: 'training loss', yLabel: 'loss', logY: true })}
${chartSvg(rawAndSmoothed(series(history, 'samples_per_s'), w, '#9467bd'), { title: 'throughput', yLabel: 'samples/s' })}
${lineChartSvg(series(history, 'lr'), { title: 'learning rate', yLabel: 'lr' })}
${lineChartSvg(series(history, 'grad_norm'), { title: 'gradient norm (before clipping)', yLabel: 'grad norm', logY: true })}
</body></html>
`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
