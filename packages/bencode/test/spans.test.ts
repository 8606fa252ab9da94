import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BencodeSpan,
  type BencodeValue,
  decode,
  decodeWithSpans,
  encode,
  isBencodeDict,
  isBencodeError,
  rawSpan,
  spanAt,
} from '../src/index';
import { arbCanonicalBencode, arbLenientBencode, bencodeEquals } from '../src/testing';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

describe('byte spans', () => {
  it('hashes the original info bytes of a non-canonical torrent (BEP 3 info-hash)', () => {
    // Unsorted keys and a leading zero inside `info`: re-encoding would change the bytes.
    const infoBytes = 'd4:name3:a.b6:lengthi05e12:piece lengthi16384e6:pieces0:e';
    const torrent = ascii(`d8:announce3:url4:info${infoBytes}e`);
    expect(
      isBencodeError(
        catchError(() => decode(torrent)),
        'UNSORTED_KEYS',
      ),
    ).toBe(true);
    const span = rawSpan(torrent, ['info'], { strict: false }) as BencodeSpan;
    expect(span).toBeDefined();
    const raw = torrent.subarray(span.start, span.end);
    expect(Buffer.from(raw).toString('latin1')).toBe(infoBytes);
    const { value } = decodeWithSpans(torrent, { strict: false });
    const info = isBencodeDict(value) ? value.info : undefined;
    expect(sha1(raw)).not.toBe(sha1(encode(info as BencodeValue)));
    expect(sha1(raw)).toBe(sha1(ascii(infoBytes)));
  });

  it('gives spans of list items, nested values and leaves', () => {
    const bytes = ascii('d1:ad1:vl3:xyzi-12eee1:bi1ee');
    const { span } = decodeWithSpans(bytes);
    expect(span).toMatchObject({ start: 0, end: bytes.length });
    expect(spanAt(span, ['a', 'v'])).toMatchObject({ start: 8, end: 20 });
    expect(spanAt(span, ['a', 'v', 0])).toEqual({ start: 9, end: 14 });
    expect(spanAt(span, ['a', 'v', 1])).toEqual({ start: 14, end: 19 });
    expect(spanAt(span, [ascii('b')])).toEqual({ start: 24, end: 27 });
    expect(spanAt(span, [])).toBe(span);
  });

  it('returns undefined for paths that do not exist', () => {
    const { span } = decodeWithSpans(ascii('d1:ali1eee'));
    expect(spanAt(span, ['b'])).toBeUndefined();
    expect(spanAt(span, ['a', 1])).toBeUndefined();
    expect(spanAt(span, ['a', 0, 'x'])).toBeUndefined();
    expect(spanAt(span, [0])).toBeUndefined();
    expect(spanAt(span, ['toString'])).toBeUndefined();
    expect(spanAt(span, ['__proto__'])).toBeUndefined();
    expect(rawSpan(ascii('i1e'), ['a'])).toBeUndefined();
  });

  it('validates the whole input like decode', () => {
    expect(
      isBencodeError(
        catchError(() => rawSpan(ascii('d1:ai1ee!'), ['a'])),
        'TRAILING_DATA',
      ),
    ).toBe(true);
    expect(
      isBencodeError(
        catchError(() => rawSpan(ascii('d1:bi1e1:ai2ee'), ['a'])),
        'UNSORTED_KEYS',
      ),
    ).toBe(true);
  });

  it('rawSpan follows the last of repeated keys in lenient mode, like the value', () => {
    const bytes = ascii('d1:ad1:bi1ee1:ad1:ci2eee');
    expect(rawSpan(bytes, ['a', 'b'], { strict: false })).toBeUndefined();
    expect(rawSpan(bytes, ['a', 'c'], { strict: false })).toMatchObject({ start: 19, end: 22 });
    expect(rawSpan(bytes, ['a'], { strict: false })).toMatchObject({ start: 15, end: 23 });
    const reversed = ascii('d1:ad1:ci2ee1:ad1:bi1eee');
    expect(rawSpan(reversed, ['a', 'c'], { strict: false })).toBeUndefined();
    expect(rawSpan(reversed, ['a', 'b'], { strict: false })).toMatchObject({ start: 19, end: 22 });
    expect(rawSpan(bytes, [], { strict: false })).toMatchObject({ start: 0, end: bytes.length });
  });

  it('rawSpan agrees with spanAt(decodeWithSpans) on every path (1000 runs)', () => {
    fc.assert(
      fc.property(
        fc.oneof(arbLenientBencode(), arbCanonicalBencode()),
        fc.nat(),
        ({ bytes }, pick) => {
          const { value, span } = decodeWithSpans(bytes, { strict: false });
          const paths = pathsOf(value);
          const path = paths[pick % paths.length] as (string | number)[];
          for (const p of [path, [...path, 0], [...path, 'missing-key']]) {
            const full = spanAt(span, p);
            const fast = rawSpan(bytes, p, { strict: false });
            expect(fast && { start: fast.start, end: fast.end }).toEqual(
              full && { start: full.start, end: full.end },
            );
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('every span holds exactly the bytes of its value (lenient encodings, 1000 runs)', () => {
    fc.assert(
      fc.property(fc.oneof(arbLenientBencode(), arbCanonicalBencode()), ({ bytes, value }) => {
        const decoded = decodeWithSpans(bytes, { strict: false });
        expect(bencodeEquals(decoded.value, value)).toBe(true);
        checkSpans(bytes, decoded.value, decoded.span);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Every path to a value inside `value`, the empty path included. */
function pathsOf(value: BencodeValue): (string | number)[][] {
  const out: (string | number)[][] = [[]];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      for (const p of pathsOf(v)) out.push([i, ...p]);
    });
  } else if (isBencodeDict(value)) {
    for (const k of Object.keys(value)) {
      for (const p of pathsOf(value[k] as BencodeValue)) out.push([k, ...p]);
    }
  }
  return out;
}

/** Each span decodes on its own to the value it belongs to, and children nest inside it. */
function checkSpans(bytes: Uint8Array, value: BencodeValue, span: BencodeSpan): void {
  const own = decode(bytes.subarray(span.start, span.end), { strict: false });
  expect(bencodeEquals(own, value)).toBe(true);
  if (Array.isArray(value)) {
    expect(span.items).toHaveLength(value.length);
    value.forEach((v, i) => {
      const child = span.items?.[i] as BencodeSpan;
      expect(child.start > span.start && child.end < span.end).toBe(true);
      checkSpans(bytes, v, child);
    });
  } else if (isBencodeDict(value)) {
    expect(Object.keys(span.entries ?? {}).sort()).toEqual(Object.keys(value).sort());
    for (const k of Object.keys(value)) {
      checkSpans(bytes, value[k] as BencodeValue, spanAt(span, [k]) as BencodeSpan);
    }
  } else {
    expect(span.items).toBeUndefined();
    expect(span.entries).toBeUndefined();
  }
}

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}
