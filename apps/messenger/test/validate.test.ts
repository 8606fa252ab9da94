import { generateIdentity } from '@peerkit/noise';
import { describe, expect, it } from 'vitest';
import { EnvelopeCodec } from '../src/envelope';
import { HistoryStore } from '../src/history';
import { DEFAULT_LIMITS } from '../src/limits';
import { RateLimiter } from '../src/rate-limit';
import { ReplayWindow } from '../src/replay-window';
import { type ValidationContext, validateRoomMessage } from '../src/validate';

const codec = new EnvelopeCodec();
const alice = generateIdentity();
const mallory = generateIdentity();
const NOW = 1_800_000_000_000;

function context(): ValidationContext {
  return {
    codec,
    limits: DEFAULT_LIMITS,
    window: new ReplayWindow(),
    history: new HistoryStore(),
    rate: new RateLimiter({ now: () => 0 }, 5, 3),
    now: NOW,
  };
}

const say = (seq: number, text = `m${seq}`, ts = NOW) =>
  codec.signRoom(alice, { room: 'r', ts, seq, text });

describe('validateRoomMessage', () => {
  it('accepts a genuine message once; the same seq again is a replay', () => {
    const ctx = context();
    const m = say(1);
    expect(validateRoomMessage(codec.encodeRoom(m), 'r', alice.publicKey, ctx).result).toBe(
      'accept',
    );
    const again = validateRoomMessage(codec.encodeRoom(say(1, 'other')), 'r', alice.publicKey, ctx);
    expect(again).toMatchObject({ result: 'reject', reason: 'REPLAY' });
  });

  it('ignores (does not punish) an exact duplicate of a message already in the history', () => {
    const ctx = context();
    const m = say(1);
    ctx.history.add(m);
    ctx.window.record(`r\0${Buffer.from(alice.publicKey).toString('hex')}`, 1);
    expect(validateRoomMessage(codec.encodeRoom(m), 'r', alice.publicKey, ctx)).toMatchObject({
      result: 'ignore',
      reason: 'DUPLICATE',
    });
  });

  it('rejects forged, altered, misdirected, stale, undecodable and out-of-window messages', () => {
    const ctx = context();
    const cases: [Uint8Array, string, Uint8Array, string][] = [
      [codec.encodeRoom(say(2)), 'r', mallory.publicKey, 'AUTHOR_MISMATCH'],
      [codec.encodeRoom({ ...say(3), text: 'changed' }), 'r', alice.publicKey, 'BAD_SIGNATURE'],
      [
        codec.encodeRoom({ ...say(4), sig: new Uint8Array(64) }),
        'r',
        alice.publicKey,
        'BAD_SIGNATURE',
      ],
      [codec.encodeRoom(say(5)), 'other-room', alice.publicKey, 'WRONG_ROOM'],
      [codec.encodeRoom(say(6, 'x', NOW + 10 * 60_000)), 'r', alice.publicKey, 'STALE'],
      [codec.encodeRoom(say(7, 'x', NOW - 60 * 60_000)), 'r', alice.publicKey, 'STALE'],
      [Uint8Array.of(0x81, 0xa1, 0x76, 0x01), 'r', alice.publicKey, 'MALFORMED'],
    ];
    for (const [bytes, room, author, reason] of cases) {
      expect(validateRoomMessage(bytes, room, author, ctx)).toMatchObject({
        result: 'reject',
        reason,
      });
    }
    // The window: the last 64 accepted numbers of an author (sparse, clock-based numbers).
    const busy = { ...context(), rate: new RateLimiter({ now: () => 0 }, 1e6, 1e6) };
    for (let i = 0; i < 64; i++) {
      const v = validateRoomMessage(
        codec.encodeRoom(say(2000 + i * 1000)),
        'r',
        alice.publicKey,
        busy,
      );
      expect(v.result).toBe('accept');
    }
    expect(
      validateRoomMessage(codec.encodeRoom(say(1500)), 'r', alice.publicKey, busy),
    ).toMatchObject({
      result: 'reject',
      reason: 'REPLAY',
    });
    // Slightly out of order inside the window is fine.
    expect(
      validateRoomMessage(codec.encodeRoom(say(2500)), 'r', alice.publicKey, busy).result,
    ).toBe('accept');
  });

  it('ignores an author over its rate limit (relaying peers are not punished)', () => {
    const ctx = context();
    const verdicts = [1, 2, 3, 4].map((s) =>
      validateRoomMessage(codec.encodeRoom(say(s)), 'r', alice.publicKey, ctx),
    );
    expect(verdicts.map((v) => v.result)).toEqual(['accept', 'accept', 'accept', 'ignore']);
    expect(verdicts[3]).toMatchObject({ reason: 'RATE_LIMITED' });
  });
});
