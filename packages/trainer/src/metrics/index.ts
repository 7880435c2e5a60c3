export { MetricsFile } from './metrics-file.js';
export { renderReport, lineChartSvg } from './report.js';
export type { ReportOptions } from './report.js';
