import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Writer } from '../src/encoding/writer';
import { LedgerError } from '../src/errors';
import { MAX_HEADERS_RESULTS, MAX_INV_SZ, MAX_PROTOCOL_MESSAGE_LENGTH } from '../src/p2p/constants';
import { encodeMessage, MessageDecoder } from '../src/p2p/envelope';
import { decodePayload, encodePayload, KNOWN_COMMANDS } from '../src/p2p/messages/codec';
import { REGTEST } from '../src/params';
import { arbMessage } from '../src/testing/p2p-arbitraries';

const COMMANDS = [...KNOWN_COMMANDS];

function expectLedgerError(f: () => unknown): LedgerError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    return e as LedgerError;
  }
}

describe('message codecs', () => {
  it('round-trip every message', () => {
    fc.assert(
      fc.property(arbMessage(), (m) => {
        const payload = encodePayload(m);
        const back = decodePayload(m.command, payload);
        expect(back).toEqual(m);
        expect(encodePayload(back as typeof m)).toEqual(payload);
      }),
      { numRuns: 2000 },
    );
  });

  it('decoding arbitrary bytes is total for every command', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...COMMANDS),
        fc.uint8Array({ maxLength: 300 }),
        (command, bytes) => {
          const err = expectLedgerError(() => decodePayload(command, bytes));
          if (err) expect(['DECODE', 'LIMIT']).toContain(err.code);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('decoding mutated valid payloads is total and never over-allocates', () => {
    fc.assert(
      fc.property(arbMessage(), fc.nat(), fc.nat(255), fc.nat(), (m, at, value, cut) => {
        const payload = encodePayload(m).slice();
        if (payload.length > 0) payload[at % payload.length] = value;
        const truncated = payload.subarray(
          0,
          payload.length === 0 ? 0 : cut % (payload.length + 1),
        );
        expectLedgerError(() => decodePayload(m.command, payload));
        expectLedgerError(() => decodePayload(m.command, truncated));
      }),
      { numRuns: 3000 },
    );
  });

  it('unknown commands decode to undefined (ignored, as Core does)', () => {
    expect(decodePayload('frobnicate', new Uint8Array(3))).toBeUndefined();
  });

  it('enforces Core limits: inv of 50,001 entries and headers of 2,001 are LIMIT errors', () => {
    const inv = new Writer().compactSize(MAX_INV_SZ + 1).finish();
    expect(expectLedgerError(() => decodePayload('inv', inv))?.code).toBe('LIMIT');
    const headers = new Writer().compactSize(MAX_HEADERS_RESULTS + 1).finish();
    expect(expectLedgerError(() => decodePayload('headers', headers))?.code).toBe('LIMIT');
    expect(
      expectLedgerError(() =>
        encodePayload({
          command: 'headers',
          headers: new Array(2001).fill(REGTEST.genesis.header),
        }),
      )?.code,
    ).toBe('LIMIT');
  });
});

describe('message envelope', () => {
  it('round-trips messages split into arbitrary chunks', () => {
    fc.assert(
      fc.property(
        fc.array(arbMessage(), { maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }),
        (ms, cuts) => {
          const wire = Buffer.concat(
            ms.map((m) => encodeMessage(REGTEST.magic, m.command, encodePayload(m))),
          );
          const dec = new MessageDecoder({ magic: REGTEST.magic });
          const out = [];
          let at = 0;
          let i = 0;
          while (at < wire.length) {
            const n = cuts[i++ % cuts.length] as number;
            dec.push(new Uint8Array(wire.subarray(at, at + n)));
            at += n;
            for (let raw = dec.next(); raw; raw = dec.next())
              out.push(decodePayload(raw.command, raw.payload));
          }
          expect(out).toEqual(ms);
          expect(dec.buffered).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reports a bad checksum and stays in step with the stream', () => {
    const bad = encodeMessage(REGTEST.magic, 'ping', new Uint8Array(8));
    bad[20] = (bad[20] as number) ^ 1;
    const dec = new MessageDecoder({ magic: REGTEST.magic });
    dec.push(bad);
    dec.push(encodeMessage(REGTEST.magic, 'verack', new Uint8Array(0)));
    expect(dec.next()).toMatchObject({ command: 'ping', checksumOk: false });
    expect(dec.next()).toMatchObject({ command: 'verack', checksumOk: true });
  });

  it('rejects a wrong magic, an oversized length and a malformed command', () => {
    const good = encodeMessage(REGTEST.magic, 'ping', new Uint8Array(8));
    const cases: [Uint8Array, string][] = [];
    const magic = good.slice();
    magic[0] = (magic[0] as number) ^ 1;
    cases.push([magic, 'PROTOCOL']);
    const big = good.slice();
    new DataView(big.buffer).setUint32(16, MAX_PROTOCOL_MESSAGE_LENGTH + 1, true);
    cases.push([big, 'LIMIT']);
    const cmd = good.slice();
    cmd[4 + 5] = 0x41; // a byte after the NUL padding began
    cases.push([cmd, 'PROTOCOL']);
    for (const [bytes, code] of cases) {
      const dec = new MessageDecoder({ magic: REGTEST.magic });
      dec.push(bytes);
      expect(expectLedgerError(() => dec.next())?.code).toBe(code);
      // The decoder stays failed.
      expect(expectLedgerError(() => dec.next())?.code).toBe(code);
    }
  });

  it('arbitrary byte streams never crash the decoder', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }),
        fc.boolean(),
        (chunks, withMagic) => {
          const dec = new MessageDecoder({ magic: REGTEST.magic });
          if (withMagic) dec.push(REGTEST.magic.slice());
          expectLedgerError(() => {
            for (const c of chunks) {
              dec.push(c);
              while (dec.next());
            }
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
