import { defineRule, ensure, runRules, type TargetContext } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatJson, formatTable } from '../src/framework/report';

const fakeContext = (): TargetContext => ({ timeoutMs: 10, alive: async () => true });
const cite = { spec: 'TEST', section: 'one', text: 'numbers below 10 are fine' };
const belowTen = defineRule<TargetContext, number>({
  id: 'test.below-ten',
  title: 'numbers below ten',
  cite,
  cases: () => fc.nat(1000),
  async check(_ctx, n) {
    ensure(n < 10, `${n} is not below 10`);
  },
});

describe('report', () => {
  it('formats the table with a replay line and the JSON losslessly', async () => {
    const report = await runRules('test', 'fake', [belowTen], fakeContext(), { runs: 50, seed: 3 });
    const table = formatTable(report);
    expect(table).toContain('FAILED test.below-ten');
    expect(table).toContain(
      `replay: peerkit-conform test fake --seed 3 --only test.below-ten --path ${report.results[0]!.path}`,
    );
    expect(table).toContain('TEST, one: "numbers below 10 are fine"');
    expect(JSON.parse(formatJson(report))).toEqual(JSON.parse(JSON.stringify(report)));
  });
});
