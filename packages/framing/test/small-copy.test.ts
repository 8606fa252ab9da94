/**
 * Small messages are decoded from a copy in a buffer the codec reuses, when no valid message
 * can hold a view of its input (no bytes fields, or `copyBytes`). These tests compare that path
 * with the ordinary one and check that nothing decoded aliases the reused buffer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defineCodec, MessageError, t } from '../src/index';
import { arbHostileMessage, arbitraryFor, checkCodecCompliance } from '../src/testing';
import { Gossip } from './schemas';

/** A schema without bytes fields: every small message takes the copy path. */
const Control = t.union('type', {
  ping: t.object({ seq: t.uint() }),
  topic: t.object({
    name: t.string({ minLength: 1, maxLength: 32 }),
    tags: t.array(t.enum(['a', 'b', 'c']), { maxLength: 4 }),
    weight: t.optional(t.float({ min: -1, max: 1 })),
    meta: t.optional(t.object({ ok: t.bool(), note: t.string({ maxLength: 40 }) })),
  }),
});

function verdict(run: () => unknown): { value: unknown } | { code: string; path: string } {
  try {
    return { value: run() };
  } catch (error) {
    if (!(error instanceof MessageError)) throw error;
    return { code: error.code, path: error.path };
  }
}

describe('small messages decoded from a reused copy', () => {
  it('a schema without bytes fields: round trips and hostile bytes (compliance suite)', () => {
    checkCodecCompliance(defineCodec(Control), { numRuns: 1000 });
  });

  it('gives the same verdicts as the ordinary path (copyBytes vs views, any bytes)', () => {
    const viewing = defineCodec(Gossip); // has bytes fields: never copies the message
    const copying = defineCodec(Gossip, { copyBytes: true }); // copies messages up to 128 bytes
    const valid = arbValidGossip();
    fc.assert(
      fc.property(fc.oneof(valid, arbHostileMessage(valid)), (bytes) => {
        expect(verdict(() => copying.decode(bytes))).toEqual(verdict(() => viewing.decode(bytes)));
      }),
      { numRuns: 1000 },
    );
  });

  it('decoded values never change when later messages are decoded', () => {
    const copying = defineCodec(Gossip, { copyBytes: true });
    const a = copying.encode({
      type: 'publish',
      topic: 'x',
      seqno: 1,
      from: new Uint8Array(32).fill(1),
      data: Uint8Array.of(1, 2, 3),
    });
    const b = copying.encode({
      type: 'publish',
      topic: 'y',
      seqno: 2,
      from: new Uint8Array(32).fill(2),
      data: Uint8Array.of(4, 5, 6),
    });
    expect(a.length).toBeLessThanOrEqual(128);
    const first = copying.decode(a);
    copying.decode(b);
    expect(first).toEqual({
      type: 'publish',
      topic: 'x',
      seqno: 1,
      from: new Uint8Array(32).fill(1),
      data: Uint8Array.of(1, 2, 3),
    });
    const control = defineCodec(Control);
    const one = control.decode(control.encode({ type: 'topic', name: 'n1', tags: ['a'] }));
    control.decode(control.encode({ type: 'topic', name: 'n2', tags: ['b', 'c'] }));
    expect(one).toEqual({ type: 'topic', name: 'n1', tags: ['a'] });
  });
});

function arbValidGossip(): fc.Arbitrary<Uint8Array> {
  const codec = defineCodec(Gossip);
  return arbitraryFor(Gossip).map((message) => codec.encode(message as never));
}
