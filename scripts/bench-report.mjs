#!/usr/bin/env node
// Prints every table written to bench-results/ by the last `pnpm bench`, as one report.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'bench-results');
if (!existsSync(dir)) process.exit(0);
const tables = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
const fmt = (c) =>
  typeof c === 'number'
    ? Math.abs(c) >= 1000
      ? Math.round(c).toLocaleString('en-US')
      : Number(c.toPrecision(3)).toString()
    : c;
console.log('\n# peerkit benchmarks\n');
for (const t of tables) {
  console.log(`## ${t.package}: ${t.title}\n`);
  console.log(`| ${t.columns.join(' | ')} |`);
  console.log(`| ${t.columns.map(() => '---').join(' | ')} |`);
  for (const r of t.rows) console.log(`| ${r.map(fmt).join(' | ')} |`);
  for (const n of t.notes ?? []) console.log(`\n${n}`);
  console.log('');
}
