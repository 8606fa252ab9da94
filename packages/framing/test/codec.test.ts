import { Packr, pack } from 'msgpackr';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  defineCodec,
  defineMessage,
  type Infer,
  isMessageError,
  MessageError,
  type MessageErrorCode,
  t,
} from '../src/index';
import { Chat, Gossip, Nested } from './schemas';

const chat = defineCodec(Chat);
const gossip = defineCodec(Gossip);
const nested = defineCodec(Nested);

const author = new Uint8Array(32).fill(7);

function failure(run: () => unknown): { code: MessageErrorCode; path: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MessageError);
    const e = error as MessageError;
    return { code: e.code, path: e.path };
  }
  throw new Error('expected a MessageError');
}

describe('schema types', () => {
  it('infers message types from the schema', () => {
    type ChatT = Infer<typeof Chat>;
    expectTypeOf<ChatT>().toEqualTypeOf<{
      room: string;
      author: Uint8Array;
      sentAt: number;
      body: string;
      mood?: 'happy' | 'sad';
      replyTo?: Uint8Array;
    }>();
    type GossipT = Infer<typeof Gossip>;
    expectTypeOf<Extract<GossipT, { type: 'subscribe' }>>().toEqualTypeOf<{
      type: 'subscribe';
      topics: string[];
    }>();
    expectTypeOf(gossip.decode).returns.toEqualTypeOf<GossipT>();
    const ping = defineMessage({ nonce: t.uint({ max: 0xffffffff }), v: t.literal(2) });
    expectTypeOf(ping.decode).returns.toEqualTypeOf<{ nonce: number; v: 2 }>();
  });

  it('rejects schemas that cannot be validated safely', () => {
    expect(() => t.object({ constructor: t.uint() })).toThrow(TypeError);
    expect(() => t.uint({ max: 2 ** 60 })).toThrow(TypeError);
    expect(() => t.array(t.uint(), {} as { maxLength: number })).toThrow(TypeError);
    expect(() => t.union('type', { a: t.object({ type: t.string() }) })).toThrow(TypeError);
  });

  it('derives structural limits from the schema', () => {
    expect(chat.maxDepth).toBe(1);
    expect(nested.maxDepth).toBe(4); // message > peers > peer > tags
    expect(gossip.maxDepth).toBe(2);
    expect(chat.maxValues).toBe(1 + 6 * 2);
  });
});

describe('codec round trip', () => {
  it('encodes to plain msgpack that any decoder reads, and decodes it back', () => {
    const message = {
      room: 'lobby',
      author,
      sentAt: 1_700_000_000_000,
      body: 'hi',
      mood: 'happy' as const,
    };
    const bytes = chat.encode(message);
    expect(new Packr({ useRecords: false }).unpack(bytes)).toEqual({
      ...message,
      author: Buffer.from(author),
    });
    const decoded = chat.decode(bytes);
    expect(decoded).toEqual(message);
    expect(Object.getPrototypeOf(decoded.author)).toBe(Uint8Array.prototype);
  });

  it('leaves undefined optional fields out of the encoding', () => {
    const bytes = chat.encode({ room: 'r', author, sentAt: 1, body: '', mood: undefined });
    expect(bytes[0]).toBe(0x84); // fixmap of 4 entries
    expect(Object.keys(chat.decode(bytes)).sort()).toEqual(['author', 'body', 'room', 'sentAt']);
  });

  it('returns bytes fields as views of the input unless copyBytes is set', () => {
    const bytes = chat.encode({ room: 'r', author, sentAt: 1, body: '' });
    expect(chat.decode(bytes).author.buffer).toBe(bytes.buffer);
    const copying = defineCodec(Chat, { copyBytes: true });
    expect(copying.decode(bytes).author.buffer).not.toBe(bytes.buffer);
  });

  it('keeps earlier encodings intact across later encode calls', () => {
    const a = gossip.encode({ type: 'prune', topic: 'a' });
    const copy = a.slice();
    for (let i = 0; i < 1000; i++) gossip.encode({ type: 'prune', topic: `topic ${i}` });
    expect(a).toEqual(copy);
  });

  it('decodes a union to the right variant', () => {
    const m = gossip.decode(
      gossip.encode({ type: 'ihave', topic: 'x', ids: [new Uint8Array(20)] }),
    );
    expect(m.type).toBe('ihave');
    if (m.type === 'ihave') expect(m.ids).toHaveLength(1);
  });
});

describe('codec errors (typed, with a path; never a half-valid object)', () => {
  const valid = { room: 'r', author, sentAt: 1, body: 'b' };
  const cases: [string, unknown, MessageErrorCode, string][] = [
    ['not a map', [1, 2], 'WRONG_TYPE', ''],
    ['missing field', { room: 'r', author, body: 'b' }, 'MISSING_FIELD', 'sentAt'],
    ['unknown field', { ...valid, extra: 1 }, 'UNKNOWN_FIELD', 'extra'],
    ['wrong type', { ...valid, sentAt: '1' }, 'WRONG_TYPE', 'sentAt'],
    ['negative uint', { ...valid, sentAt: -1 }, 'OUT_OF_RANGE', 'sentAt'],
    ['fractional uint', { ...valid, sentAt: 1.5 }, 'OUT_OF_RANGE', 'sentAt'],
    ['short bytes', { ...valid, author: new Uint8Array(31) }, 'TOO_SHORT', 'author'],
    ['long string', { ...valid, room: 'x'.repeat(65) }, 'TOO_LONG', 'room'],
    ['empty string below min', { ...valid, room: '' }, 'TOO_SHORT', 'room'],
    ['bad enum', { ...valid, mood: 'angry' }, 'BAD_VALUE', 'mood'],
    ['nil for optional', { ...valid, mood: null }, 'BAD_VALUE', 'mood'],
  ];
  for (const [name, value, code, path] of cases) {
    it(`${name} -> ${code}`, () => {
      // The same error whether the bad value is handed to encode or arrives as bytes.
      expect(failure(() => chat.encode(value as never))).toEqual({ code, path });
      expect(failure(() => chat.decode(pack(value)))).toEqual({ code, path });
      expect(chat.is(value)).toBe(false);
    });
  }

  it('reports nested paths', () => {
    const peer = { id: new Uint8Array(20), host: 'h', port: 1 };
    const base = { version: 1, ok: true, score: 0, delta: 0, peers: [peer, peer] };
    expect(
      failure(() => nested.validate({ ...base, peers: [peer, { ...peer, port: 70000 }] })),
    ).toEqual({
      code: 'OUT_OF_RANGE',
      path: 'peers[1].port',
    });
    expect(failure(() => nested.validate({ ...base, peers: [{ ...peer, tags: ['x'] }] }))).toEqual({
      code: 'BAD_VALUE',
      path: 'peers[0].tags[0]',
    });
    expect(failure(() => nested.validate({ ...base, version: 2 }))).toEqual({
      code: 'BAD_VALUE',
      path: 'version',
    });
    expect(failure(() => nested.validate({ ...base, score: Number.NaN }))).toEqual({
      code: 'OUT_OF_RANGE',
      path: 'score',
    });
    expect(failure(() => gossip.validate({ type: 'nope' }))).toEqual({
      code: 'UNKNOWN_VARIANT',
      path: 'type',
    });
    expect(failure(() => gossip.validate({ topics: [] }))).toEqual({
      code: 'MISSING_FIELD',
      path: 'type',
    });
    expect(
      failure(() => gossip.validate({ type: 'subscribe', topics: new Array(65).fill('t') })),
    ).toEqual({
      code: 'TOO_LONG',
      path: 'topics',
    });
  });

  it('rejects every msgpack extension type before msgpackr runs it', () => {
    const withDate = pack({ ...valid, sentAt: new Date(0) });
    expect(failure(() => chat.decode(withDate)).code).toBe('EXTENSION');
    const undefinedExt = Uint8Array.from([0x81, 0xa1, 0x61, 0xd4, 0x00, 0x00]);
    expect(failure(() => chat.decode(undefinedExt)).code).toBe('EXTENSION');
    // A msgpackr record definition (ext 0x72) would otherwise build a reader from the input.
    const records = new Packr({ useRecords: true }).pack({ ...valid });
    expect(failure(() => chat.decode(records)).code).toBe('EXTENSION');
    // A typed-array extension could otherwise pass for a bytes field.
    const typed = new Packr({ moreTypes: true }).pack({ ...valid, author: new Uint16Array(16) });
    expect(failure(() => chat.decode(typed)).code).toBe('EXTENSION');
  });

  it('bounds depth, values and size before decoding', () => {
    const deep = new Uint8Array(100_001).fill(0x91); // 100,000 nested one-element arrays
    deep[100_000] = 0x01;
    expect(failure(() => chat.decode(deep)).code).toBe('TOO_DEEP');
    expect(failure(() => nested.decode(deep)).code).toBe('TOO_DEEP');
    const many = pack({ ...valid, a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 });
    expect(failure(() => chat.decode(many)).code).toBe('TOO_LARGE');
    const small = defineCodec(Chat, { maxMessageSize: 16 });
    expect(failure(() => small.decode(chat.encode(valid))).code).toBe('TOO_LARGE');
    expect(failure(() => small.encode(valid)).code).toBe('TOO_LARGE');
    // A header announcing 2^32-1 elements is malformed (the bytes cannot hold them).
    expect(failure(() => chat.decode(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff))).code).toBe(
      'MALFORMED',
    );
  });

  it('converts malformed msgpack and msgpackr exceptions to MessageError', () => {
    expect(failure(() => chat.decode(new Uint8Array(0))).code).toBe('MALFORMED');
    expect(failure(() => chat.decode(Uint8Array.of(0xc1))).code).toBe('MALFORMED');
    expect(failure(() => chat.decode(Uint8Array.of(0x81, 0xa1))).code).toBe('MALFORMED');
    const trailing = Uint8Array.from([...chat.encode(valid), 0x00]);
    expect(failure(() => chat.decode(trailing)).code).toBe('MALFORMED');
    // A map key that is itself a map: msgpackr throws; the codec converts.
    const mapKey = Uint8Array.from([0x81, 0x80, 0x01]);
    const e = failure(() => chat.decode(mapKey));
    expect(e.code).toBe('MALFORMED');
    // int64 beyond 2^53 decodes to a bigint, which no field accepts.
    const huge = Uint8Array.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(failure(() => defineCodec(t.uint()).decode(huge)).code).toBe('WRONG_TYPE');
    expect(isMessageError(new MessageError('TOO_DEEP', 'x'), 'TOO_DEEP')).toBe(true);
  });

  it('compiles validators for any field name or enum value (no code injection)', () => {
    const odd = ['we"ird\\name\u2028 ', '$', '{x} `);'].join('');
    const codec = defineMessage({ [odd]: t.enum(['a"b', "c'd"]), n: t.literal(-0.5) });
    const value = { [odd]: 'a"b' as const, n: -0.5 as const };
    expect(codec.decode(codec.encode(value))).toEqual(value);
    expect(failure(() => codec.validate({ ...value, [odd]: 'x' }))).toEqual({
      code: 'BAD_VALUE',
      path: odd,
    });
    expect(() => t.literal(Number.NaN)).toThrow(TypeError);
  });

  it('accepts any valid msgpack encoding of a message, not only msgpackr output', () => {
    // map16 header, str8 key, uint64 sentAt: still the same message.
    const m = defineMessage({ a: t.uint() });
    expect(
      m.decode(Uint8Array.from([0xde, 0x00, 0x01, 0xd9, 0x01, 0x61, 0xcf, 0, 0, 0, 0, 0, 0, 1, 0])),
    ).toEqual({
      a: 256,
    });
  });
});
