import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { shortId, shortIdKeys } from '../src/p2p/short-ids';
import { siphash24 } from '../src/p2p/siphash';
import { REGTEST } from '../src/params';

/** vectors_sip64 from the reference implementation (../shared/vectors/bitcoin/siphash/vectors.h). */
function referenceVectors(): Uint8Array[] {
  const path = fileURLToPath(
    new URL('../../../../shared/vectors/bitcoin/siphash/vectors.h', import.meta.url),
  );
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('vectors_sip64[64][8]');
  const body = text.slice(start, text.indexOf('};', start));
  const bytes = [...body.matchAll(/0x([0-9a-f]{2})/g)].map((m) =>
    Number.parseInt(m[1] as string, 16),
  );
  expect(bytes.length).toBe(64 * 8);
  return Array.from({ length: 64 }, (_, i) => Uint8Array.from(bytes.slice(8 * i, 8 * i + 8)));
}

describe('SipHash-2-4', () => {
  it('matches the 64 reference vectors (key 00..0f, message 00..len-1)', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const view = new DataView(key.buffer);
    const k0 = view.getBigUint64(0, true);
    const k1 = view.getBigUint64(8, true);
    const vectors = referenceVectors();
    for (let len = 0; len < 64; len++) {
      const message = Uint8Array.from({ length: len }, (_, i) => i);
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, siphash24(k0, k1, message), true);
      expect(out, `length ${len}`).toEqual(vectors[len]);
    }
  });

  it('short ids are 48 bits and depend on the header and the nonce', () => {
    const header = REGTEST.genesis.header;
    const a = shortIdKeys(header, 1n);
    const b = shortIdKeys(header, 2n);
    const hash = new Uint8Array(32).fill(7);
    const ida = shortId(a, hash);
    expect(ida).toBeGreaterThanOrEqual(0);
    expect(ida).toBeLessThan(2 ** 48);
    expect(shortId(b, hash)).not.toBe(ida);
    expect(shortId(a, hash)).toBe(ida);
  });
});
