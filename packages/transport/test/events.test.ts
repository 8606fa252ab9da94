import { describe, expect, it } from 'vitest';
import { Emitter, EventChannel } from '../src/index';

interface Events {
  tick: { n: number };
  done: undefined;
}

class Ticker extends Emitter<Events> {
  tick(n: number): void {
    this.emit('tick', { n });
  }
}

describe('Emitter (the event convention)', () => {
  it('delivers one payload to every handler, and on() returns the remover', () => {
    const ticker = new Ticker();
    const seen: number[] = [];
    const off = ticker.on('tick', (e) => seen.push(e.n));
    ticker.on('tick', (e) => seen.push(e.n * 10));
    ticker.tick(1);
    off();
    ticker.tick(2);
    expect(seen).toEqual([1, 10, 20]);
    expect(ticker.listenerCount('tick')).toBe(1);
  });

  it('once() fires a single time', () => {
    const ticker = new Ticker();
    const seen: number[] = [];
    ticker.once('tick', (e) => seen.push(e.n));
    ticker.tick(1);
    ticker.tick(2);
    expect(seen).toEqual([1]);
  });

  it('a throwing handler neither stops the other handlers nor throws into the emitter', () => {
    const reported: [unknown, string][] = [];
    const ticker = new Ticker({ onHandlerError: (error, event) => reported.push([error, event]) });
    const seen: number[] = [];
    ticker.on('tick', () => {
      throw new Error('boom');
    });
    ticker.on('tick', (e) => seen.push(e.n));
    expect(() => ticker.tick(7)).not.toThrow();
    expect(seen).toEqual([7]);
    expect(reported.map(([error, event]) => [(error as Error).message, event])).toEqual([
      ['boom', 'tick'],
    ]);
  });

  it('a throwing reporter is contained too', () => {
    const ticker = new Ticker({
      onHandlerError: () => {
        throw new Error('reporter');
      },
    });
    ticker.on('tick', () => {
      throw new Error('handler');
    });
    expect(() => ticker.tick(1)).not.toThrow();
  });

  it('a handler removed during an emission still runs for that emission only', () => {
    const channel = new EventChannel<Events>();
    const seen: string[] = [];
    let offB = (): void => {};
    channel.on('done', () => {
      seen.push('a');
      offB();
    });
    offB = channel.on('done', () => seen.push('b'));
    channel.emit('done', undefined);
    channel.emit('done', undefined);
    expect(seen).toEqual(['a', 'b', 'a']);
  });
});
