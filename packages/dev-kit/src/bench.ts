/**
 * A tiny kit shared by the `bench/*.bench.ts` scripts of every package.
 *
 * Benchmarks compare a rate against a reference measured in the same run (DESIGN.md), so the
 * kit only offers: a rate measurement with warm-up (`rate`), and `report`, which prints one
 * markdown table and writes it as JSON to `bench-results/` at the repository root, where
 * `scripts/bench-report.mjs` gathers every table into the one that `pnpm bench` prints.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Cell = string | number;
export interface BenchTable {
  /** Package name, e.g. `@peerkit/bencode`. */
  package: string;
  /** Short file-safe name of this table, e.g. `decode`. */
  name: string;
  title: string;
  columns: string[];
  rows: Cell[][];
  notes?: string[];
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Formats a number with a sensible number of significant digits. */
export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 10 ** digits) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toString();
}

export function markdownTable(table: BenchTable): string {
  const head = `| ${table.columns.join(' | ')} |`;
  const sep = `| ${table.columns.map(() => '---').join(' | ')} |`;
  const body = table.rows.map(
    (r) => `| ${r.map((c) => (typeof c === 'number' ? fmt(c) : c)).join(' | ')} |`,
  );
  return [head, sep, ...body].join('\n');
}

export function report(table: BenchTable): void {
  const dir = join(repoRoot, 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${table.package.replace(/[@/]/g, '_')}-${table.name}.json`);
  writeFileSync(file, `${JSON.stringify({ ...table, date: new Date().toISOString() }, null, 2)}\n`);
  console.log(`\n### ${table.package}: ${table.title}\n\n${markdownTable(table)}`);
  for (const note of table.notes ?? []) console.log(`\n${note}`);
}

/**
 * Runs `fn` repeatedly for about `ms` milliseconds after a warm-up and returns calls per second.
 * `fn` may do a batch of work; divide by the batch size yourself.
 */
export function rate(fn: () => unknown, ms = 1000): number {
  const warmUntil = performance.now() + Math.min(200, ms / 4);
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    fn();
    calls++;
    now = performance.now();
  }
  return (calls * 1000) / (now - start);
}

/** Async variant of {@link rate}. */
export async function rateAsync(fn: () => Promise<unknown>, ms = 1000): Promise<number> {
  const warmUntil = performance.now() + Math.min(200, ms / 4);
  while (performance.now() < warmUntil) await fn();
  let calls = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    await fn();
    calls++;
    now = performance.now();
  }
  return (calls * 1000) / (now - start);
}

/** Percentile (0..100) of a list of numbers; the list is sorted in place. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  values.sort((a, b) => a - b);
  const i = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[i] as number;
}
