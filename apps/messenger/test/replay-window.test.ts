import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayWindow } from '../src/replay-window';

/** Reference model: every sequence number ever recorded, per author; the window is the top SIZE. */
interface Model {
  seen: Map<string, Set<number>>;
}

const SIZE = 8;

function expected(model: Model, author: string, seq: number) {
  const seen = model.seen.get(author);
  if (seen === undefined) return 'new';
  const top = [...seen].sort((a, b) => b - a).slice(0, SIZE);
  if (top.length === SIZE && seq < Math.min(...top)) return 'too-old';
  return top.includes(seq) ? 'seen' : 'new';
}

class Check implements fc.Command<Model, ReplayWindow> {
  constructor(
    readonly author: string,
    readonly seq: number,
  ) {}
  check = () => true;
  run(model: Model, real: ReplayWindow): void {
    const verdict = real.check(this.author, this.seq);
    expect(verdict).toBe(expected(model, this.author, this.seq));
    if (verdict === 'new') {
      real.record(this.author, this.seq);
      let set = model.seen.get(this.author);
      if (set === undefined) {
        set = new Set();
        model.seen.set(this.author, set);
      }
      set.add(this.seq);
    }
  }
  toString = () => `check(${this.author}, ${this.seq})`;
}

describe('ReplayWindow', () => {
  it('behaves like "every number once, nothing below the last SIZE accepted" (model-based)', () => {
    const commands = [
      fc
        .tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 1, max: 40 }))
        .map(([a, s]) => new Check(a, s)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 200 }), (cmds) => {
        fc.modelRun(
          () => ({ model: { seen: new Map() }, real: new ReplayWindow({ size: SIZE }) }),
          cmds,
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps its memory bounded: at most `size` numbers per author and `maxAuthors` authors', () => {
    const w = new ReplayWindow({ size: 4, maxAuthors: 3 });
    for (let i = 1; i <= 1000; i++) w.record('a', i * 1_000_000);
    expect(w.check('a', 996_000_000)).toBe('too-old');
    expect(w.check('a', 997_000_000)).toBe('seen');
    expect(w.check('a', 997_500_000)).toBe('new'); // reordered, inside the window
    for (const a of ['b', 'c', 'd']) w.record(a, 1);
    expect(w.authorCount).toBe(3);
    expect(w.check('a', 1000)).toBe('new'); // 'a' was the least recently active: forgotten
  });
});
