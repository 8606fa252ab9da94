/**
 * Every case of ../shared/vectors/bencode/bencode_vectors.json:
 * - strict mode (the default) gives the case's `bep3` verdict and its `value`;
 * - lenient mode (`strict: false`) gives libtorrent's verdict where the case records one.
 */
import { describe, expect, it } from 'vitest';
import {
  type BencodeErrorCode,
  type DecodeOptions,
  decode,
  decodePrefix,
  encode,
  isBencodeError,
  MAX_DEPTH_LIMIT,
} from '../src/index';
import { expectedValue, inputBytes, loadVectors, type VectorCase } from './vectors';

const cases = loadVectors();

/**
 * BEP 3 sets no nesting limit, so the strict verdicts are checked with the largest `maxDepth`
 * (1024), which `lt-depth-1024` needs. The default limit (64) is checked separately below.
 */
const bep3Options: DecodeOptions = { maxDepth: MAX_DEPTH_LIMIT };

/**
 * The error strict mode reports for each case BEP 3 rejects, and for the two it leaves
 * `unspecified`, which we reject in strict mode because the input is not canonical
 * (`06:foobar`: leading zero in a length) or is not one single value (`de\n`: trailing byte).
 * Offsets match libtorrent's `error_pos` where it records one, except for input that ends early,
 * which we report at the input length.
 */
const strictErrors: Record<string, [BencodeErrorCode, number]> = {
  'bep3-int-neg0': ['NEGATIVE_ZERO', 0],
  'bep3-int-leading-zero': ['LEADING_ZERO', 1],
  'lt-dict-unsorted': ['UNSORTED_KEYS', 27],
  'lt-dict-key-novalue': ['EXPECTED_VALUE', 10],
  'lt-dict-nonstring-key': ['KEY_NOT_STRING', 1],
  'lt-unordered-1': ['UNSORTED_KEYS', 8],
  'lt-unordered-2': ['UNSORTED_KEYS', 8],
  'lt-unordered-3': ['UNSORTED_KEYS', 8],
  'lt-duplicate-key': ['DUPLICATE_KEY', 8],
  'lt-premature-e': ['EXPECTED_VALUE', 0],
  'lt-negative-length': ['EXPECTED_VALUE', 0],
  'lt-length-overflow': ['UNEXPECTED_END', 27],
  'lt-length-past-end': ['UNEXPECTED_END', 15],
  'lt-leading-zero-length': ['LEADING_ZERO', 0],
  'lt-int-no-digits': ['EXPECTED_DIGIT', 1],
  'lt-int-just-minus': ['EXPECTED_DIGIT', 2],
  'lt-int-interior-minus': ['EXPECTED_DIGIT', 6],
  'lt-int-truncated': ['UNEXPECTED_END', 2],
  'lt-int-leading-zero': ['LEADING_ZERO', 1],
  'lt-int-bad-digit': ['EXPECTED_DIGIT', 9],
  'lt-invalid-encoding': ['KEY_NOT_STRING', 81],
  'lt-eof-list': ['UNEXPECTED_END', 5],
  'lt-eof-strlen': ['UNEXPECTED_END', 6],
  'lt-int-dict-key': ['KEY_NOT_STRING', 1],
  'lt-eof-dict-key': ['UNEXPECTED_END', 9],
  'lt-eof-dict-key2': ['UNEXPECTED_END', 6],
  'lt-bad-dict-key': ['KEY_NOT_STRING', 1],
  'lt-eof-int': ['UNEXPECTED_END', 1],
  'lt-eof-int2': ['UNEXPECTED_END', 3],
  'lt-expected-colon': ['UNEXPECTED_END', 5],
  'lt-empty-input': ['UNEXPECTED_END', 0],
  'lt-partial-string': ['UNEXPECTED_END', 6],
  'lt-dict-at': ['UNSORTED_KEYS', 9],
  'lt-length-overflow-1': ['UNEXPECTED_END', 20],
  'lt-length-overflow-2': ['UNEXPECTED_END', 20],
  'lt-length-overflow-3': ['UNEXPECTED_END', 22],
  'lt-length-overflow-4': ['UNEXPECTED_END', 29],
  'lt-length-overflow-5': ['UNEXPECTED_END', 29],
  'lt-partial-parse-1': ['EXPECTED_DIGIT', 35],
  'lt-partial-parse-2': ['EXPECTED_VALUE', 29],
  'lt-partial-parse-3': ['KEY_NOT_STRING', 26],
  'lt-partial-parse-4': ['EXPECTED_VALUE', 22],
  'lt-partial-string-no-colon': ['UNEXPECTED_END', 2],
  'an-info-novalue': ['EXPECTED_VALUE', 7],
  'an-info-garbage': ['EXPECTED_VALUE', 7],
  'an-trailing-newline': ['TRAILING_DATA', 2],
};

/**
 * libtorrent verdicts that depend on a limit rather than on leniency. The notes of these cases
 * name the limit libtorrent's test used; we pass the same limit through our options.
 */
const libtorrentLimits: Record<string, DecodeOptions> = {
  'lt-depth-1024': { maxDepth: 100 }, // "with depth_limit=100"
  'lt-items-5119': { maxItems: 1000 }, // "with token_limit=1000"
};

/**
 * Contradictory case, explained rather than skipped: `lt-int-21-digits` is valid per BEP 3
 * ("Integers have no size limitation", bep3: valid) but libtorrent rejects it because it stores
 * integers as int64. That is a representation limit of libtorrent, not a leniency rule, so our
 * lenient mode follows BEP 3 and decodes it to a bigint; the test asserts exactly that.
 */
const lenientFollowsBep3 = new Set(['lt-int-21-digits']);

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('bencode_vectors.json in strict mode (BEP 3 verdicts)', () => {
  it('has the 77 cases the MANIFEST describes', () => {
    expect(cases).toHaveLength(77);
    expect(new Set(cases.map((c) => c.id)).size).toBe(77);
  });

  it.each(cases.map((c): [string, VectorCase] => [c.id, c]))('%s', (_id, c) => {
    const bytes = inputBytes(c);
    if (c.bep3 === 'valid') {
      const value = decode(bytes, bep3Options);
      if (c.value !== undefined) expect(value).toEqual(expectedValue(c.value));
      // A canonical input re-encodes to the very same bytes.
      if (c.canonical === true) {
        expect(Buffer.from(encode(value, bep3Options)).equals(bytes)).toBe(true);
      }
      return;
    }
    const expected = strictErrors[c.id];
    expect(expected, `strictErrors lacks ${c.id}`).toBeDefined();
    const e = catchError(() => decode(bytes, bep3Options));
    expect(isBencodeError(e)).toBe(true);
    expect([(e as { code: string }).code, (e as { offset: number }).offset]).toEqual(expected);
  });

  it('the unspecified cases still decode where a caller opts in', () => {
    // `06:foobar`: lenient mode reads the leading-zero length, like libtorrent.
    expect(decode(new TextEncoder().encode('06:foobar'), { strict: false })).toEqual(
      new TextEncoder().encode('foobar'),
    );
    // `de\n`: decodePrefix reads the value and reports where it ends.
    const prefix = decodePrefix(Uint8Array.of(0x64, 0x65, 0x0a));
    expect(prefix.value).toEqual(Object.create(null));
    expect(prefix.end).toBe(2);
  });

  it('rejects lt-depth-1024 under the default maxDepth (64) and accepts 64 levels', () => {
    const c = cases.find((x) => x.id === 'lt-depth-1024') as VectorCase;
    const e = catchError(() => decode(inputBytes(c)));
    expect(isBencodeError(e, 'DEPTH_LIMIT')).toBe(true);
    const ok = new TextEncoder().encode(`${'l'.repeat(64)}${'e'.repeat(64)}`);
    expect(() => decode(ok)).not.toThrow();
    const over = new TextEncoder().encode(`${'l'.repeat(65)}${'e'.repeat(65)}`);
    expect(
      isBencodeError(
        catchError(() => decode(over)),
        'DEPTH_LIMIT',
      ),
    ).toBe(true);
  });
});

describe('bencode_vectors.json in lenient mode (libtorrent verdicts)', () => {
  const recorded = cases.filter((c) => c.libtorrent);
  it('covers every case with a libtorrent record', () => {
    expect(recorded.length).toBeGreaterThan(50);
  });

  it.each(recorded.map((c): [string, VectorCase] => [c.id, c]))('%s', (_id, c) => {
    const bytes = inputBytes(c);
    const options: DecodeOptions = {
      strict: false,
      maxDepth: MAX_DEPTH_LIMIT,
      ...libtorrentLimits[c.id],
    };
    const result = c.libtorrent?.result;
    if (lenientFollowsBep3.has(c.id)) {
      expect(c.bep3).toBe('valid');
      expect(result).toBe('error');
      expect(decode(bytes, options)).toEqual(expectedValue(c.value as never));
      return;
    }
    if (result === 'ok' || result === 'soft_error') {
      const value = decode(bytes, options);
      if (c.value !== undefined) expect(value).toEqual(expectedValue(c.value));
    } else {
      expect(isBencodeError(catchError(() => decode(bytes, options)))).toBe(true);
    }
  });
});
