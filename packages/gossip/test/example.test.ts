import { expect, test } from 'vitest';
import { main as runConformance } from '../examples/conformance';
import { main } from '../examples/loopback';

test('the README example delivers to both subscribers over loopback TCP', async () => {
  const lines = await main(() => {});
  expect(lines.sort()).toEqual(['b got "hello, mesh" on chat', 'c got "hello, mesh" on chat']);
});

test('the README conformance example passes every gossip rule against GossipNode', async () => {
  const lines: string[] = [];
  const report = await runConformance((line) => lines.push(line));
  expect(report.ok, lines.join('\n')).toBe(true);
  expect(report.results.map((r) => r.outcome)).toEqual(report.results.map(() => 'passed'));
}, 60_000);
