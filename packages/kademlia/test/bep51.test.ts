/** BEP 51: the sampler (pure, ManualClock) and the codec of `sample_infohashes`. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLE_INTERVAL_S,
  decodeMessage,
  encodeMessage,
  InfohashSampler,
  type KrpcResponse,
  MAX_SAMPLE_INTERVAL_S,
  PEER_TTL_MS,
  readSampleResponse,
  SAMPLE_BYTES,
  Store,
  toHex,
} from '../src/index';
import { peekQueryTransaction } from '../src/krpc';
import { ManualClock, seededRandom } from './helpers/clock';

const latin1 = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
const hash = (n: number) => {
  const h = new Uint8Array(20);
  h[0] = n >> 8;
  h[1] = n & 0xff;
  h[19] = 7;
  return h;
};

function stored(count: number, clock = new ManualClock()) {
  const store = new Store(clock);
  for (let i = 0; i < count; i++) store.addPeer(hash(i), { host: '10.0.0.1', port: 1000 + i });
  return { store, clock };
}

function hexesOf(samples: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 0; at < samples.length; at += 20) out.push(toHex(samples.subarray(at, at + 20)));
  return out;
}

describe('InfohashSampler (BEP 51)', () => {
  it('returns every stored info-hash when all fit, fresh on each query', () => {
    const { store, clock } = stored(5);
    const sampler = new InfohashSampler(store, clock, seededRandom(1));
    const first = sampler.sample(10);
    expect(first.num).toBe(5);
    expect(first.interval).toBe(DEFAULT_SAMPLE_INTERVAL_S);
    expect(new Set(hexesOf(first.samples))).toEqual(
      new Set([0, 1, 2, 3, 4].map((i) => toHex(hash(i)))),
    );
    store.addPeer(hash(9), { host: '10.0.0.2', port: 1 });
    expect(hexesOf(sampler.sample(10).samples)).toContain(toHex(hash(9)));
    expect(sampler.sample(0)).toMatchObject({ num: 6, samples: new Uint8Array(0) });
  });

  it('keeps a sample for `interval` seconds once the store does not fit, then moves on', () => {
    const { store, clock } = stored(100);
    const sampler = new InfohashSampler(store, clock, seededRandom(2), 30);
    const a = sampler.sample(10);
    expect(a.num).toBe(100);
    expect(a.samples.length).toBe(10 * SAMPLE_BYTES);
    clock.advance(29_999);
    expect(sampler.sample(10).samples).toEqual(a.samples);
    clock.advance(1);
    const b = sampler.sample(10);
    expect(b.samples.length).toBe(10 * SAMPLE_BYTES);
    expect(hexesOf(b.samples).filter((h) => hexesOf(a.samples).includes(h))).toEqual([]);
  });

  it('covers every stored info-hash in ceil(num / size) samples, each a set of stored ones (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 60 }),
        fc.nat(),
        (count, size, seed) => {
          const { store, clock } = stored(count);
          const sampler = new InfohashSampler(store, clock, seededRandom(seed), 0);
          const all = new Set(Array.from({ length: count }, (_, i) => toHex(hash(i))));
          const seen = new Set<string>();
          const rounds = Math.max(1, Math.ceil(count / size));
          for (let i = 0; i < rounds; i++) {
            const s = sampler.sample(size);
            const hexes = hexesOf(s.samples);
            expect(s.num).toBe(count);
            expect(hexes.length).toBe(Math.min(count, size));
            expect(new Set(hexes).size).toBe(hexes.length);
            for (const h of hexes) expect(all.has(h)).toBe(true);
            for (const h of hexes) seen.add(h);
          }
          expect(seen).toEqual(all);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leaves out expired info-hashes, from the count and from a kept sample', () => {
    const clock = new ManualClock();
    const { store } = stored(30, clock);
    const sampler = new InfohashSampler(store, clock, seededRandom(3), MAX_SAMPLE_INTERVAL_S);
    const first = sampler.sample(10);
    clock.advance(PEER_TTL_MS / 2);
    store.addPeer(hash(500), { host: '10.0.0.3', port: 1 });
    clock.advance(PEER_TTL_MS / 2 + 1);
    const later = sampler.sample(10);
    expect(later.num).toBe(1);
    expect(hexesOf(later.samples)).toEqual([toHex(hash(500))]);
    expect(first.samples.length).toBe(200);
  });

  it('refuses an interval outside 0-21600 seconds', () => {
    const { store, clock } = stored(0);
    for (const bad of [-1, 21_601, 1.5, Number.NaN]) {
      expect(() => new InfohashSampler(store, clock, seededRandom(1), bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    expect(new InfohashSampler(store, clock, seededRandom(1), 21_600).intervalSeconds).toBe(21_600);
  });
});

describe('sample_infohashes codec (BEP 51 "message format")', () => {
  const id = 'abcdefghij0123456789';
  const ih = 'mnopqrstuvwxyz123456';

  it('decodes the BEP example shapes and re-encodes them byte for byte', () => {
    const q = `d1:ad2:id20:${id}6:target20:${ih}e1:q17:sample_infohashes1:t2:aa1:y1:qe`;
    const query = decodeMessage(latin1(q));
    expect(query).toMatchObject({ y: 'q', q: 'sample_infohashes' });
    expect(Buffer.from(encodeMessage(query)).toString('latin1')).toBe(q);
    const r = `d1:rd2:id20:${id}8:intervali21600e5:nodes26:${ih}ABCDEF3:numi2e7:samples40:${ih}${id}e1:t2:aa1:y1:re`;
    const response = decodeMessage(latin1(r)) as KrpcResponse;
    expect(response.r).toMatchObject({ interval: 21_600, num: 2 });
    expect(response.r.samples?.length).toBe(40);
    expect(Buffer.from(encodeMessage(response)).toString('latin1')).toBe(r);
    const read = readSampleResponse(response, new Uint8Array(20));
    expect(read.samples.map((s) => Buffer.from(s).toString('latin1'))).toEqual([ih, id]);
    expect(read.nodes).toHaveLength(1);
  });

  it('rejects samples not a multiple of 20 bytes, negative num or interval, with MALFORMED_MESSAGE', () => {
    for (const bad of [
      `d1:rd2:id20:${id}7:samples3:abce1:t2:aa1:y1:re`,
      `d1:rd2:id20:${id}7:samples21:${ih}Xe1:t2:aa1:y1:re`,
      `d1:rd2:id20:${id}7:samplesi1ee1:t2:aa1:y1:re`,
      `d1:rd2:id20:${id}3:numi-1ee1:t2:aa1:y1:re`,
      `d1:rd2:id20:${id}8:intervali-5ee1:t2:aa1:y1:re`,
      `d1:rd2:id20:${id}8:interval2:60e1:t2:aa1:y1:re`,
      `d1:ad2:id20:${id}6:target3:abce1:q17:sample_infohashes1:t2:aa1:y1:qe`,
    ]) {
      expect(() => decodeMessage(latin1(bad)), bad).toThrow(
        expect.objectContaining({ code: 'MALFORMED_MESSAGE' }),
      );
    }
    // The query with a short target still has a readable t: the RPC layer answers 203.
    expect(
      peekQueryTransaction(
        latin1(`d1:ad2:id20:${id}6:target3:abce1:q17:sample_infohashes1:t2:aa1:y1:qe`),
      ),
    ).toEqual(latin1('aa'));
  });

  it('reads a response without samples, num or interval as MALFORMED_MESSAGE (not BEP 51)', () => {
    const response = decodeMessage(latin1(`d1:rd2:id20:${id}5:nodes0:e1:t2:aa1:y1:re`));
    expect(() => readSampleResponse(response as KrpcResponse, new Uint8Array(20))).toThrow(
      expect.objectContaining({ code: 'MALFORMED_MESSAGE' }),
    );
  });
});
