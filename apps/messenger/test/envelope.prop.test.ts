import { checkCodecCompliance } from '@peerkit/framing/testing';
import { generateIdentity } from '@peerkit/noise';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { controlCodecs } from '../src/control';
import {
  dmSignedBytes,
  EnvelopeCodec,
  roomSignedBytes,
  verifyDirectMessage,
  verifyRoomMessage,
} from '../src/envelope';
import { isChatError } from '../src/errors';
import { DEFAULT_LIMITS } from '../src/limits';

const codec = new EnvelopeCodec();
const alice = generateIdentity();
const bob = generateIdentity();

const arbRoomInput = fc.record(
  {
    room: fc.string({ minLength: 1, maxLength: 64 }),
    ts: fc.nat(),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    nick: fc.string({ minLength: 1, maxLength: 32 }),
    text: fc.string({ minLength: 1, maxLength: 300 }),
  },
  { requiredKeys: ['room', 'ts', 'seq', 'text'] },
);

describe('envelopes', () => {
  it('signed room messages round-trip and verify; any change to a field breaks the signature', () => {
    fc.assert(
      fc.property(arbRoomInput, fc.nat(), (input, pick) => {
        const m = codec.signRoom(alice, input);
        const back = codec.decodeRoom(codec.encodeRoom(m));
        expect(back).toEqual(m);
        expect(verifyRoomMessage(back)).toBe(true);
        const altered = [
          { ...m, text: `${m.text}!` },
          { ...m, room: `${m.room}x` },
          { ...m, ts: m.ts + 1 },
          { ...m, seq: m.seq === 1 ? 2 : m.seq - 1 },
          { ...m, nick: m.nick === undefined ? 'eve' : undefined },
          { ...m, author: bob.publicKey },
        ];
        const a = altered[pick % altered.length]!;
        expect(verifyRoomMessage(a)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('signed direct messages round-trip and verify; the domains keep DM and room apart', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 200 }), fc.nat(), (text, ts) => {
        const dm = codec.signDm(alice, {
          to: bob.publicKey,
          id: new Uint8Array(16).fill(1),
          ts,
          text,
        });
        const back = codec.decodeDm(codec.encodeDm(dm));
        expect(back).toEqual(dm);
        expect(verifyDirectMessage(back)).toBe(true);
        expect(verifyDirectMessage({ ...dm, to: alice.publicKey })).toBe(false);
        expect(verifyDirectMessage({ ...dm, text: `${text}?` })).toBe(false);
      }),
      { numRuns: 1000 },
    );
    const room = codec.signRoom(alice, { room: 'r', ts: 1, seq: 1, text: 'x' });
    const dmBytes = dmSignedBytes({
      from: alice.publicKey,
      to: alice.publicKey,
      id: new Uint8Array(16),
      ts: 1,
      text: 'x',
    });
    expect(Buffer.from(roomSignedBytes(room)).equals(Buffer.from(dmBytes))).toBe(false);
  });

  it('the signed encoding is injective: shifting bytes between fields changes it', () => {
    const base = { author: alice.publicKey, ts: 1, seq: 1 };
    const a = roomSignedBytes({ ...base, room: 'ab', text: 'c' });
    const b = roomSignedBytes({ ...base, room: 'a', text: 'bc' });
    const c = roomSignedBytes({ ...base, room: 'a', nick: 'b', text: 'c' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(b).equals(Buffer.from(c))).toBe(false);
  });

  it('arbitrary bytes decode to an envelope or MALFORMED, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        for (const decode of [() => codec.decodeRoom(bytes), () => codec.decodeDm(bytes)]) {
          try {
            decode();
          } catch (error) {
            expect(isChatError(error, 'MALFORMED')).toBe(true);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('limits: empty or oversized text and long rooms are refused when signing', () => {
    expect(() => codec.signRoom(alice, { room: 'r', ts: 1, seq: 1, text: '' })).toThrow(
      /outside the limits/,
    );
    expect(() =>
      codec.signRoom(alice, {
        room: 'r',
        ts: 1,
        seq: 1,
        text: 'x'.repeat(DEFAULT_LIMITS.maxTextLength + 1),
      }),
    ).toThrow(/outside the limits/);
    expect(() =>
      codec.signRoom(alice, { room: 'r'.repeat(65), ts: 1, seq: 1, text: 'x' }),
    ).toThrow();
    const max = codec.signRoom(alice, {
      room: 'r'.repeat(64),
      ts: 1,
      seq: 1,
      nick: 'n'.repeat(32),
      text: '€'.repeat(4000),
    });
    expect(codec.decodeRoom(codec.encodeRoom(max)).text).toHaveLength(4000);
  });

  it('codec compliance (framing/testing): envelopes and the control protocol', () => {
    checkCodecCompliance(codec.roomCodec, { numRuns: 1000 });
    checkCodecCompliance(codec.dmCodec, { numRuns: 1000 });
    const control = controlCodecs({ ...DEFAULT_LIMITS, maxHistory: 4 });
    checkCodecCompliance(control.request, { numRuns: 1000 });
    checkCodecCompliance(control.response, { numRuns: 300 });
  });
});
