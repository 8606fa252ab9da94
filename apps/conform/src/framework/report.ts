/** Printing a suite report: a table for people, JSON for machines. */

import type { Outcome, RuleResult, SuiteReport } from '@peerkit/conformance';
import pc from 'picocolors';

const LABEL: Record<Outcome, string> = {
  passed: 'passed',
  failed: 'FAILED',
  'not-applicable': 'n/a',
};

function paint(outcome: Outcome, text: string, color: boolean): string {
  if (!color) return text;
  if (outcome === 'passed') return pc.green(text);
  if (outcome === 'failed') return pc.red(text);
  return pc.dim(text);
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** The report as a table: one line per rule, then the details of each failure. */
export function formatTable(report: SuiteReport, options: { color?: boolean } = {}): string {
  const color = options.color ?? false;
  const lines: string[] = [];
  lines.push(
    `peerkit-conform ${report.suite} ${report.target}  (seed ${report.seed}, ${report.runs} runs per rule)`,
  );
  const idWidth = Math.max(4, ...report.results.map((r) => r.id.length));
  const citeWidth = Math.max(4, ...report.results.map((r) => r.cite.spec.length));
  lines.push(
    `${pad('rule', idWidth)}  ${pad('result', 6)}  ${pad('cases', 5)}  ${pad('spec', citeWidth)}  title`,
  );
  for (const r of report.results) {
    lines.push(
      `${pad(r.id, idWidth)}  ${paint(r.outcome, pad(LABEL[r.outcome], 6), color)}  ${pad(String(r.runs), 5)}  ${pad(r.cite.spec, citeWidth)}  ${r.title}`,
    );
  }
  const failures = report.results.filter((r) => r.outcome === 'failed');
  for (const r of failures) lines.push('', ...formatFailure(r, report));
  const notApplicable = report.results.filter((r) => r.outcome === 'not-applicable');
  if (notApplicable.length > 0) {
    lines.push('', 'not applicable:');
    for (const r of notApplicable) lines.push(`  ${r.id}: ${r.reason ?? ''}`);
  }
  const count = (o: Outcome) => report.results.filter((r) => r.outcome === o).length;
  lines.push(
    '',
    `${report.results.length} rules: ${count('passed')} passed, ${count('failed')} failed, ${count('not-applicable')} not applicable`,
  );
  return lines.join('\n');
}

function formatFailure(r: RuleResult, report: SuiteReport): string[] {
  const replay = [`--seed ${r.seed}`, `--only ${r.id}`];
  if (r.path !== undefined) replay.push(`--path ${r.path}`);
  return [
    `FAILED ${r.id}: ${r.title}`,
    `  ${r.cite.spec}, ${r.cite.section}: "${r.cite.text}"`,
    `  violation: ${r.reason ?? ''}`,
    `  counterexample: ${r.counterexample ?? '(none)'}`,
    `  after ${r.runs} case(s) and ${r.shrinks} shrink step(s), ${(r.durationMs / 1000).toFixed(1)} s`,
    `  replay: peerkit-conform ${report.suite} ${report.target} ${replay.join(' ')}`,
  ];
}

/** The report as JSON (stable keys, one object). */
export function formatJson(report: SuiteReport): string {
  return JSON.stringify(report, null, 2);
}
