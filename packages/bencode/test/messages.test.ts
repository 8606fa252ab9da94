/**
 * Protocol messages from the BEP texts (../shared/vectors/dht and ../peer-wire, read in place):
 * BEP 5 KRPC packets, BEP 44 values and signed buffers, BEP 9 ut_metadata messages.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type BencodeDict,
  decode,
  decodePrefix,
  encode,
  isBencodeDict,
  rawSpan,
} from '../src/index';

const shared =
  process.env.PEERKIT_SHARED ?? fileURLToPath(new URL('../../../../shared', import.meta.url));
const read = <T>(...path: string[]): T =>
  JSON.parse(readFileSync(join(shared, 'vectors', ...path), 'utf8')) as T;
const binary = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('BEP 5 KRPC example packets', () => {
  const { examples } = read<{ examples: { name: string; bencoded: string }[] }>(
    'dht',
    'bep5_krpc_examples.json',
  );

  it.each(examples.map((e): [string, string] => [e.name, e.bencoded]))('%s', (_name, packet) => {
    const bytes = binary(packet);
    const msg = decode(bytes);
    expect(isBencodeDict(msg)).toBe(true);
    const { t, y } = msg as BencodeDict;
    expect(text(t as Uint8Array)).toBe('aa');
    expect(['q', 'r', 'e']).toContain(text(y as Uint8Array));
    expect(text(encode(msg))).toBe(packet);
  });
});

describe('BEP 44 test vectors', () => {
  const { vectors } = read<{
    vectors: {
      name: string;
      value: string;
      seq?: number;
      salt?: string | null;
      signed_buffer?: string;
      target: string;
      target_rule: string;
    }[];
  }>('dht', 'bep44_vectors.json');

  it.each(vectors.map((v): [string, (typeof vectors)[number]] => [v.name, v]))('%s', (_name, v) => {
    // A put query carrying the value; its raw `v` bytes come back through rawSpan.
    const value = decode(binary(v.value));
    const put = encode({
      a: { id: new Uint8Array(20), seq: v.seq, salt: v.salt ?? undefined, v: value, token: 'tk' },
      q: 'put',
      t: 'aa',
      y: 'q',
    });
    const span = rawSpan(put, ['a', 'v']);
    expect(span).toBeDefined();
    const raw = put.subarray(span?.start, span?.end);
    expect(text(raw)).toBe(v.value);
    if (v.target_rule === 'SHA-1(bencoded value)') {
      expect(createHash('sha1').update(raw).digest('hex')).toBe(v.target);
    }
    if (v.signed_buffer !== undefined) {
      // BEP 44: the signature covers the bencoded salt (if any), seq and v, "without the
      // surrounding d and e": the dictionary's encoding minus its first and last byte.
      const dict = encode({ salt: v.salt ?? undefined, seq: v.seq, v: value });
      expect(text(dict.subarray(1, -1))).toBe(v.signed_buffer);
    }
  });
});

describe('BEP 9 ut_metadata messages', () => {
  it('reads the dictionary of a data message and leaves the metadata piece after it', () => {
    const piece = binary('xxxxxxxx');
    const message = binary('d8:msg_typei1e5:piecei0e10:total_sizei34256ee');
    const payload = new Uint8Array([...message, ...piece]);
    const { value, end } = decodePrefix(payload);
    expect(end).toBe(message.length);
    expect(value).toEqual(
      Object.assign(Object.create(null), { msg_type: 1, piece: 0, total_size: 34256 }),
    );
    expect(payload.subarray(end)).toEqual(piece);
  });

  it('round-trips the request message', () => {
    const request = 'd8:msg_typei0e5:piecei0ee';
    expect(text(encode(decode(binary(request))))).toBe(request);
    expect(text(encode({ piece: 0, msg_type: 0 }))).toBe(request);
  });
});
