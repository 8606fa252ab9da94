/**
 * The selection flags (src/file-selection.ts) and the HTTP `Range` header (src/http-stream.ts)
 * are parsers of user input: total (a value or a `CliError` usage error, never another
 * exception), fuzzed with fast-check, and right on examples.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/errors';
import { filePrioritiesFor, globToRegExp, parseIndexList } from '../src/file-selection';
import { parseRange } from '../src/http-stream';

const files = [
  { path: ['pack', 'a.txt'], length: 10 },
  { path: ['pack', 'b.bin'], length: 10 },
  { path: ['pack', 'sub', 'c.nfo'], length: 10 },
  { path: ['pack', 'pad'], length: 5, padding: true },
  { path: ['pack', 'sub', 'd.txt'], length: 10 },
];

function usageOrValue(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).usage).toBe(true);
  }
}

describe('selection flags', () => {
  it('parse examples: indices from 1, ranges, globs by name or path, priorities in order', () => {
    expect(parseIndexList('1,3-5', '--select')).toEqual([0, 2, 3, 4]);
    expect(parseIndexList(' 2 , 2-3', '--select')).toEqual([1, 2]);
    expect(() => parseIndexList('0', '--select')).toThrow(CliError);
    expect(() => parseIndexList('3-1', '--select')).toThrow(CliError);
    expect(globToRegExp('*.txt').test('a.txt')).toBe(true);
    expect(globToRegExp('*.txt').test('sub/a.txt')).toBe(false);
    expect(globToRegExp('sub/**').test('sub/x/y.bin')).toBe(true);
    expect(globToRegExp('[!a]?.bin').test('bb.bin')).toBe(true);
    expect(filePrioritiesFor({ select: ['2,5'] }, files)).toEqual([
      'skip',
      'normal',
      'skip',
      'skip',
      'normal',
    ]);
    expect(filePrioritiesFor({ exclude: ['*.txt'] }, files)).toEqual([
      'skip',
      'normal',
      'normal',
      'skip',
      'skip',
    ]);
    expect(filePrioritiesFor({ exclude: ['sub/*'], priority: ['high:1'] }, files)).toEqual([
      'high',
      'normal',
      'skip',
      'skip',
      'skip',
    ]);
    expect(() => filePrioritiesFor({ select: ['9'] }, files)).toThrow(/no file 9/);
    expect(() => filePrioritiesFor({ select: ['4'] }, files)).toThrow(/leaves no file/);
    expect(() => globToRegExp('[z-a]')).toThrow(CliError);
  });

  it('are total: any text gives a value or a usage error', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (select, exclude, priority) => {
        usageOrValue(() => parseIndexList(select, '--select'));
        usageOrValue(() => globToRegExp(exclude));
        usageOrValue(() =>
          filePrioritiesFor({ select: [select], exclude: [exclude], priority: [priority] }, files),
        );
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Range header', () => {
  it('is total: any header and length give a range inside the resource, 416 or the whole', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`),
          fc.nat().map((n) => `bytes=-${n}`),
          fc.nat().map((n) => `bytes=${n}-`),
        ),
        fc.nat(1_000_000),
        (header, length) => {
          const r = parseRange(header, length);
          if (r === undefined || r === 'unsatisfiable') return;
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.end).toBeGreaterThanOrEqual(r.start);
          expect(r.end).toBeLessThan(length);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
