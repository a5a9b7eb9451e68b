/** What a benchmark module reports; run.ts prints it and writes bench/results.md. */

export type Verdict = 'met' | 'not met';

export interface Row {
  metric: string;
  value: string;
  /** The figure to compare against (a target, or the peer's figure). */
  target?: string;
  verdict?: Verdict;
}

export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

export interface BenchOutput {
  /** Headline figures: each with its target and whether it was met. */
  rows: Row[];
  /** Detail, e.g. one line per request rate. */
  tables?: Table[];
  /** How it was measured and anything a reader must know to trust the figures. */
  notes: string[];
}

export interface BenchContext {
  quick: boolean;
  /** bench/results/: raw outputs, logs and the generated repository cache (git-ignored). */
  resultsDir: string;
  log(message: string): void;
}

export interface Benchmark {
  id: string;
  title: string;
  run(context: BenchContext): Promise<BenchOutput>;
}

export function verdict(met: boolean): Verdict {
  return met ? 'met' : 'not met';
}

export function markdownTable(header: string[], rows: string[][]): string {
  const escaped = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${header.map(escaped).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escaped).join(' | ')} |`),
  ].join('\n');
}

/** A plain-text table for the terminal, columns padded to their widest cell. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function headlineRows(rows: Row[]): string[][] {
  return rows.map((r) => [r.metric, r.value, r.target ?? '', r.verdict ?? '']);
}
