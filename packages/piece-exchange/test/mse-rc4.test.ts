import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rc4 } from '../src/mse/rc4';

// RFC 6229 §2, "Test Vectors for the Stream Cipher RC4": keystream bytes at given offsets.
const RFC6229: { key: string; rows: [number, string][] }[] = [
  {
    key: '0102030405',
    rows: [
      [0, 'b2396305f03dc027ccc3524a0a1118a8'],
      [16, '6982944f18fc82d589c403a47a0d0919'],
      [240, '28cb1132c96ce286421dcaadb8b69eae'],
      [256, '1cfcf62b03eddb641d77dfcf7f8d8c93'],
      [1008, '45129048e6a0ed0b56b490338f078da5'],
      [1024, '30abbcc7c20b01609f23ee2d5f6bb7df'],
      [4080, '068326a2118416d21f9d04b2cd1ca050'],
      [4096, 'ff25b58995996707e51fbdf08b34d875'],
    ],
  },
  {
    key: '01020304050607',
    rows: [
      [0, '293f02d47f37c9b633f2af5285feb46b'],
      [1024, '8ecb67a9ba1f55a5a067e2b026a3676f'],
      [4096, 'e74b0b9731227fd37c0ec08a47ddd8b8'],
    ],
  },
  {
    key: '0102030405060708090a0b0c0d0e0f10',
    rows: [
      [0, '9ac7cc9a609d1ef7b2932899cde41b97'],
      [16, '5248c4959014126a6e8a84f11d1a9e1c'],
      [1008, 'e7a72574f8782ae26aabcf9ebcd66065'],
      [1024, 'bdf0324e6083dcc6d3cedd3ca8c53c16'],
      [4096, 'a36a4c301ae8ac13610ccbc12256cacc'],
    ],
  },
  {
    key: '0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20',
    rows: [
      [0, 'eaa6bd25880bf93d3f5d1e4ca2611d91'],
      [1024, '7fec5bfd9f9b89ce6548309092d7e958'],
      [4080, 'a13a7c79c7e119b5ab0296ab28c300b9'],
      [4096, 'f3e4c0a2e02d1d01f7f0a74618af2b48'],
    ],
  },
];

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('RC4 (RFC 6229 test vectors)', () => {
  for (const { key, rows } of RFC6229) {
    it(`key ${key}: keystream at offsets ${rows.map(([o]) => o).join(', ')}`, () => {
      const rc4 = new Rc4(Buffer.from(key, 'hex'));
      const stream = rc4.process(new Uint8Array(4112));
      for (const [offset, expected] of rows)
        expect(hex(stream.subarray(offset, offset + 16))).toBe(expected);
    });
    it(`key ${key}: skip(n) then process equals the keystream at n (drop-1024 is skip(1024))`, () => {
      for (const [offset, expected] of rows) {
        const rc4 = new Rc4(Buffer.from(key, 'hex'));
        rc4.skip(offset);
        expect(hex(rc4.process(new Uint8Array(16)))).toBe(expected);
      }
      const dropped = Rc4.forMse(Buffer.from(key, 'hex'));
      expect(hex(dropped.process(new Uint8Array(16)))).toBe(rows.find(([o]) => o === 1024)?.[1]);
    });
  }

  it('refuses an empty or over-long key', () => {
    expect(() => new Rc4(new Uint8Array(0))).toThrow(RangeError);
    expect(() => new Rc4(new Uint8Array(257))).toThrow(RangeError);
  });

  it('decrypts what it encrypts, however the data is split; processCopy leaves the input alone', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 32 }),
        fc.uint8Array({ maxLength: 2000 }),
        fc.array(fc.nat({ max: 2000 }), { maxLength: 5 }),
        (key, data, cuts) => {
          const enc = Rc4.forMse(key);
          const original = new Uint8Array(data);
          const cipher = enc.processCopy(data);
          expect(data).toEqual(original);
          const dec = Rc4.forMse(key);
          const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
          const out: Uint8Array[] = [];
          let from = 0;
          for (const p of [...points, data.length]) {
            out.push(dec.processCopy(cipher.subarray(from, p)));
            from = p;
          }
          expect(Buffer.concat(out)).toEqual(Buffer.from(original));
        },
      ),
      { numRuns: 200 },
    );
  });
});
