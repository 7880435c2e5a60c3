export { MetricsFile } from './metrics-file.js';
export { renderReport, lineChartSvg, chartSvg, smoothSeries, withEvaluation, evaluationHtml } from './report.js';
export { writeRunEvaluation } from './run-evaluation.js';
export type { RunEvaluation } from './run-evaluation.js';
export type { ReportOptions, EvaluationSummary, ChartSeries } from './report.js';
export {
  TensorBoardWriter,
  TENSORBOARD_TAGS,
  crc32c,
  maskedCrc32c,
  tfRecord,
  fileVersionEvent,
  scalarsEvent,
} from './tensorboard.js';
