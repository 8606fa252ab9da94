import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue, type SimEvent } from '../src/event-queue';

/** Reference model: a plain list, popped by linear search for the smallest (time, seq). */
interface Model {
  items: { time: number; seq: number; id: number; cancelled: boolean }[];
  nextSeq: number;
}
interface Real {
  queue: EventQueue;
  handles: Map<number, SimEvent>;
  ran: number[];
}

class PushCommand implements fc.Command<Model, Real> {
  constructor(
    readonly time: number,
    readonly id: number,
  ) {}
  check = () => true;
  run(model: Model, real: Real): void {
    model.items.push({ time: this.time, seq: model.nextSeq++, id: this.id, cancelled: false });
    real.handles.set(
      this.id,
      real.queue.push(this.time, () => real.ran.push(this.id)),
    );
    expect(real.queue.size).toBe(model.items.filter((i) => !i.cancelled).length);
  }
  toString = () => `push(${this.time}, #${this.id})`;
}

class PopCommand implements fc.Command<Model, Real> {
  check = () => true;
  run(model: Model, real: Real): void {
    const live = model.items.filter((i) => !i.cancelled);
    live.sort((a, b) => a.time - b.time || a.seq - b.seq);
    const expected = live[0];
    const event = real.queue.pop();
    if (expected === undefined) {
      expect(event).toBeUndefined();
      return;
    }
    expect(event).toBeDefined();
    const fn = event?.fn;
    expect(fn).toBeTypeOf('function');
    if (event && fn) {
      event.fn = null;
      fn(event);
    }
    expect(real.ran.at(-1)).toBe(expected.id);
    expect(event?.time).toBe(expected.time);
    model.items = model.items.filter((i) => i !== expected);
  }
  toString = () => 'pop';
}

class CancelCommand implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = (model: Readonly<Model>) => model.items.length > 0;
  run(model: Model, real: Real): void {
    const item = model.items[this.pick % model.items.length];
    if (!item) return;
    item.cancelled = true;
    const handle = real.handles.get(item.id);
    if (handle) real.queue.cancel(handle);
    real.queue.cancel(handle as SimEvent); // idempotent
    expect(real.queue.size).toBe(model.items.filter((i) => !i.cancelled).length);
    const live = model.items.filter((i) => !i.cancelled).map((i) => i.time);
    expect(real.queue.peekTime()).toBe(live.length === 0 ? undefined : Math.min(...live));
  }
  toString = () => `cancel(${this.pick})`;
}

describe('EventQueue', () => {
  it('behaves like a sorted list of (time, insertion order), with cancellation (model-based)', () => {
    let nextId = 0;
    const commands = [
      fc
        .tuple(
          fc.integer({ min: 0, max: 20 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          fc.boolean(),
        )
        .map(([t, frac, integral]) => new PushCommand(integral ? t : t + frac, nextId++)),
      fc.constant(new PopCommand()),
      fc.nat().map((n) => new CancelCommand(n)),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 200 }), (cmds) => {
        fc.modelRun(
          () => ({
            model: { items: [], nextSeq: 0 },
            real: { queue: new EventQueue(), handles: new Map(), ran: [] },
          }),
          cmds,
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('compacts cancelled events and keeps order with many of them', () => {
    const queue = new EventQueue();
    const events: SimEvent[] = [];
    for (let i = 0; i < 5000; i++) events.push(queue.push((i * 7919) % 1000, () => {}));
    for (let i = 0; i < 5000; i++) if (i % 5 !== 0) queue.cancel(events[i] as SimEvent);
    expect(queue.size).toBe(1000);
    let last = -1;
    let lastSeq = -1;
    let n = 0;
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) {
      expect(e.time > last || (e.time === last && e.seq > lastSeq)).toBe(true);
      last = e.time;
      lastSeq = e.seq;
      n++;
    }
    expect(n).toBe(1000);
  });
});
