#!/usr/bin/env node
// Runs every bench/*.bench.ts of the package in the current directory, one after another,
// with workspace packages resolved to their sources (the `@peerkit/source` condition).
// Usage (from a package): node ../../scripts/bench.mjs [name-filter]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const filter = process.argv[2];
const dir = join(process.cwd(), 'bench');
if (!existsSync(dir)) {
  console.log('no bench/ folder: nothing to run');
  process.exit(0);
}
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n== ${f}`);
  const r = spawnSync(
    process.execPath,
    ['--conditions=@peerkit/source', '--expose-gc', '--import', 'tsx', join(dir, f)],
    { stdio: 'inherit' },
  );
  if (r.status !== 0) {
    console.error(`${f} failed with status ${r.status}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
