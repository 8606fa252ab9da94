import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAddress, isTransportError, parseAddress, TransportError } from '../src/index';
import {
  arbitraryAddress,
  arbitraryIPv4Host,
  arbitraryIPv6Host,
  arbitraryPort,
} from '../src/testing';

/** Strings close to addresses: digits, dots, colons, brackets, hex letters and a few others. */
const addressLike = fc.string({
  unit: fc.constantFrom(...'0123456789.:[]abcdefABCDEF%x -'),
  maxLength: 48,
});

/** Valid addresses with a small mutation (a character dropped, doubled or replaced). */
const mutated = fc
  .tuple(
    arbitraryAddress(),
    fc.nat(),
    fc.constantFrom('drop', 'double', 'replace'),
    fc.string({ minLength: 1, maxLength: 1 }),
  )
  .map(([address, at, how, char]) => {
    const text = formatAddress(address);
    const i = at % text.length;
    if (how === 'drop') return text.slice(0, i) + text.slice(i + 1);
    if (how === 'double') return text.slice(0, i + 1) + text.slice(i);
    return text.slice(0, i) + char + text.slice(i + 1);
  });

describe('parseAddress / formatAddress', () => {
  it('round trip: parseAddress(formatAddress(a)) equals a', () => {
    fc.assert(
      fc.property(arbitraryAddress(), (address) => {
        expect(parseAddress(formatAddress(address))).toEqual(address);
      }),
      { numRuns: 1000 },
    );
  });

  it('any string gives an Address or TransportError INVALID_ADDRESS, nothing else', () => {
    let parsed = 0;
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), addressLike, mutated),
        (text) => {
          let address: ReturnType<typeof parseAddress>;
          try {
            address = parseAddress(text);
          } catch (error) {
            expect(isTransportError(error, 'INVALID_ADDRESS')).toBe(true);
            return;
          }
          parsed++;
          // What parses is a real address, and survives formatting.
          expect(Number.isInteger(address.port)).toBe(true);
          expect(parseAddress(formatAddress(address))).toEqual(address);
        },
      ),
      { numRuns: 2000 },
    );
    // The generators reach the accepting branch too, not only the rejecting one.
    expect(parsed).toBeGreaterThan(0);
  });

  it('formats IPv6 in brackets and IPv4 without', () => {
    fc.assert(
      fc.property(arbitraryIPv4Host(), arbitraryIPv6Host(), arbitraryPort(), (v4, v6, port) => {
        expect(formatAddress({ host: v4, port })).toBe(`${v4}:${port}`);
        expect(formatAddress({ host: v6, port })).toBe(`[${v6}]:${port}`);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['127.0.0.1:6881', { host: '127.0.0.1', port: 6881 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['[::ffff:1.2.3.4]:65535', { host: '::ffff:1.2.3.4', port: 65535 }],
  ])('accepts %s', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });

  it.each([
    '',
    '127.0.0.1',
    '127.0.0.1:',
    '127.0.0.1:65536',
    '127.0.0.1:-1',
    '127.0.0.1:1e3',
    '256.0.0.1:80',
    'localhost:80',
    '::1:80',
    '[::1]',
    '[127.0.0.1]:80',
    '[::1]:80 ',
    ' 1.2.3.4:80',
  ])('rejects %j with INVALID_ADDRESS', (text) => {
    expect(() => parseAddress(text)).toThrow(TransportError);
    expect(() => parseAddress(text)).toThrow(/not a host:port address/);
  });
});
