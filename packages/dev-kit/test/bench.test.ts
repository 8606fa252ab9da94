import { describe, expect, it } from 'vitest';
import { fmt, markdownTable, percentile, rate, rateAsync } from '../src/bench';

describe('bench kit', () => {
  it('formats numbers with three significant digits, large ones grouped', () => {
    expect(fmt(1.23456)).toBe('1.23');
    expect(fmt(0.000123456)).toBe('0.000123');
    expect(fmt(123_456.7)).toBe('123,457');
    expect(fmt(Number.NaN)).toBe('NaN');
    expect(fmt(12.3456, 2)).toBe('12');
  });

  it('prints a markdown table, numbers formatted', () => {
    const text = markdownTable({
      package: '@peerkit/x',
      name: 't',
      title: 'T',
      columns: ['what', 'MB/s'],
      rows: [
        ['a', 1234.5],
        ['b', 0.12345],
      ],
    });
    expect(text).toBe('| what | MB/s |\n| --- | --- |\n| a | 1,235 |\n| b | 0.123 |');
  });

  it('takes percentiles by rank (nearest rank, sorted in place)', () => {
    const values = [5, 1, 4, 2, 3];
    expect(percentile(values, 50)).toBe(3);
    expect(values).toEqual([1, 2, 3, 4, 5]);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile(values, 100)).toBe(5);
    expect(percentile([], 50)).toBeNaN();
  });

  it('measures a rate from calls made (sync and async)', async () => {
    let calls = 0;
    const perSecond = rate(() => calls++, 20);
    expect(calls).toBeGreaterThan(0);
    expect(perSecond).toBeGreaterThan(0);
    let asyncCalls = 0;
    expect(await rateAsync(async () => asyncCalls++, 20)).toBeGreaterThan(0);
    expect(asyncCalls).toBeGreaterThan(0);
  });
});
