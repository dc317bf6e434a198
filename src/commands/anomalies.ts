import type { Command } from 'commander';
import { DETECTOR_DEFAULTS, type DetectorPoint } from '../analytics/detectors/seasonal-baseline.ts';
import type { SeriesRow } from '../analytics/detectors/series-csv.ts';

/** `socketscope anomalies --input FILE.csv`: the service's anomaly detector over a CSV series, causally. */
export function registerAnomalies(program: Command): void {
  program
    .command('anomalies')
    .description('score a `timestamp,value` CSV with the anomaly detector; writes timestamp,value,expected,lower,upper,anomaly_score,is_anomaly')
    .requiredOption('-i, --input <file>', 'CSV with header timestamp,value ("-" for stdin)')
    .option('--threshold <z>', 'robust z-score from which a point is anomalous (raised to the 0.999 quantile of recent |z| outside incidents on heavy-tailed series)', String(DETECTOR_DEFAULTS.threshold))
    .option('--window <samples>', 'rolling window in samples', String(DETECTOR_DEFAULTS.window))
    .option('--json', 'one JSON object per row instead of CSV: its columns, then deviation, severity, state and baseline')
    .action(async (options: { input: string; threshold: string; window: string; json?: boolean }) => {
      const [{ readFile }, { SeasonalBaselineDetector }, csv] = await Promise.all([
        import('node:fs/promises'),
        import('../analytics/detectors/seasonal-baseline.ts'),
        import('../analytics/detectors/series-csv.ts'),
      ]);
      const threshold = Number(options.threshold);
      const window = Number(options.window);
      if (!(threshold > 0)) throw new Error(`--threshold must be a positive number, got ${options.threshold}`);
      if (!Number.isInteger(window) || window < 4) throw new Error(`--window must be an integer >= 4, got ${options.window}`);
      const text = options.input === '-' ? await readStdin() : await readFile(options.input, 'utf8');
      const rows = csv.parseSeriesCsv(text);
      const backwards = csv.firstBackwardsLine(rows);
      if (backwards !== null) {
        process.stderr.write(
          `socketscope anomalies: line ${backwards}: the timestamp is earlier than the line before; rows are scored in input order, each as no earlier than the one before\n`,
        );
      }
      const detector = new SeasonalBaselineDetector({ threshold, window });
      const out: string[] = options.json ? [] : [csv.OUTPUT_HEADER];
      for (const row of rows) {
        const point = detector.push(row.timestamp, row.value);
        out.push(options.json ? JSON.stringify(jsonRow(row, point)) : csv.formatSeriesCsvRow(row, point));
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });
}

/**
 * A `--json` row: the CSV's columns under the CSV's (snake_case) names, then what the CSV leaves
 * out; the timestamp as written in the input, a missing value as null.
 */
function jsonRow(row: SeriesRow, point: DetectorPoint) {
  return {
    timestamp: row.rawTimestamp,
    value: Number.isFinite(row.value) ? row.value : null,
    expected: point.expected,
    lower: point.lower,
    upper: point.upper,
    anomaly_score: point.score,
    is_anomaly: point.isAnomaly,
    deviation: point.deviation,
    severity: point.severity,
    state: point.state,
    baseline: point.baseline,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
