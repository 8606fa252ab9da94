import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bitfield, WireError } from '../src/index';

/** Model: the set of piece indices that are set. */
interface Model {
  length: number;
  set: Set<number>;
}

type Command = fc.Command<Model, Bitfield>;

function check(model: Model, real: Bitfield): void {
  expect(real.count).toBe(model.set.size);
  expect([...real.indices()]).toEqual([...model.set].sort((a, b) => a - b));
  expect(real.complete).toBe(model.set.size === model.length);
  // The wire bytes decode back to the same set, spare bits zero.
  expect([...Bitfield.fromBytes(real.toBytes(), model.length).indices()]).toEqual([
    ...real.indices(),
  ]);
}

class SetCommand implements Command {
  constructor(
    readonly index: number,
    readonly value: boolean,
  ) {}
  check = (m: Readonly<Model>) => this.index < m.length;
  run(m: Model, r: Bitfield): void {
    const changed = r.set(this.index, this.value);
    expect(changed).toBe(m.set.has(this.index) !== this.value);
    if (this.value) m.set.add(this.index);
    else m.set.delete(this.index);
    check(m, r);
  }
  toString = () => `set(${this.index}, ${this.value})`;
}

class SetAllCommand implements Command {
  check = () => true;
  run(m: Model, r: Bitfield): void {
    r.setAll();
    for (let i = 0; i < m.length; i++) m.set.add(i);
    check(m, r);
  }
  toString = () => 'setAll()';
}

class ClearAllCommand implements Command {
  check = () => true;
  run(m: Model, r: Bitfield): void {
    r.clearAll();
    m.set.clear();
    check(m, r);
  }
  toString = () => 'clearAll()';
}

class HasCommand implements Command {
  constructor(readonly index: number) {}
  check = () => true;
  run(m: Model, r: Bitfield): void {
    expect(r.has(this.index)).toBe(m.set.has(this.index));
  }
  toString = () => `has(${this.index})`;
}

describe('Bitfield model', () => {
  it('behaves like a set of indices (fc.commands)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 70 })
          .chain((length) =>
            fc.tuple(
              fc.constant(length),
              fc.commands(
                [
                  fc
                    .tuple(fc.nat({ max: Math.max(0, length - 1) }), fc.boolean())
                    .map(([i, v]) => new SetCommand(i, v)),
                  fc.constant(new SetAllCommand()),
                  fc.constant(new ClearAllCommand()),
                  fc.integer({ min: -2, max: length + 2 }).map((i) => new HasCommand(i)),
                ],
                { maxCommands: 40 },
              ),
            ),
          ),
        ([length, commands]) => {
          fc.modelRun(
            () => ({ model: { length, set: new Set<number>() }, real: new Bitfield(length) }),
            commands,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fromBytes: arbitrary bytes give a bitfield or a WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.nat({ max: 100 }), (bytes, length) => {
        try {
          const field = Bitfield.fromBytes(bytes, length);
          expect(field.toBytes()).toEqual(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
