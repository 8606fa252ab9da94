import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  blockHash,
  decodeBlockHeader,
  decodeTransaction,
  encodeBlock,
  encodeBlockHeader,
  encodeTransaction,
  fromHex,
  hash160,
  hashFromHex,
  hashToHex,
  isCoinbase,
  LedgerError,
  merkleRoot,
  REGTEST,
  toHex,
  txid,
  wtxid,
} from '../src/index';

const VECTORS = new URL('../../../../shared/vectors/bitcoin/', import.meta.url);

describe('regtest parameters', () => {
  it('builds Bitcoin Core regtest genesis (chainparams.cpp asserts these hashes)', () => {
    expect(hashToHex(REGTEST.genesisHash)).toBe(
      '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
    );
    expect(hashToHex(REGTEST.genesis.header.merkleRoot)).toBe(
      '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
    );
    expect(toHex(REGTEST.magic)).toBe('fabfb5da');
    expect(isCoinbase(REGTEST.genesis.transactions[0]!)).toBe(true);
    expect(encodeBlock(REGTEST.genesis).length).toBe(285);
  });

  it('round-trips the genesis header', () => {
    const bytes = encodeBlockHeader(REGTEST.genesis.header);
    expect(bytes.length).toBe(80);
    expect(blockHash(decodeBlockHeader(bytes))).toEqual(REGTEST.genesisHash);
  });
});

describe('hashes', () => {
  it('hash160 of the empty string and hex in display order', () => {
    expect(toHex(hash160(new Uint8Array(0)))).toBe('b472a266d0bd89c13706a4132ccfb16f7c3b9fcb');
    const h = hashFromHex('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206');
    expect(h[0]).toBe(0x06);
    expect(() => hashFromHex('zz')).toThrow(LedgerError);
  });
});

describe('transactions', () => {
  it('decodes every tx_valid.json transaction and re-encodes it byte for byte', () => {
    const cases = JSON.parse(
      readFileSync(new URL('tx_valid.json', VECTORS), 'utf8'),
    ) as unknown[][];
    let n = 0;
    for (const c of cases) {
      if (c.length < 3 || typeof c[1] !== 'string') continue;
      const bytes = fromHex(c[1]);
      const tx = decodeTransaction(bytes);
      expect(toHex(encodeTransaction(tx))).toBe(c[1]);
      n++;
    }
    expect(n).toBeGreaterThan(100);
  });

  it('computes txid and wtxid of a BIP 144 transaction (BIP 143 native P2WPKH example)', () => {
    // The signed transaction of BIP 143's "Native P2WPKH" example.
    const hex =
      '01000000000102fff7f7881a8099afa6940d42d1e7f6362bec38171ea3edf433541db4e4ad969f00000000494830450221008b9d1dc26ba6a9cb62127b02742fa9d754cd3bebf337f7a55d114c8e5cdd30be022040529b194ba3f9281a99f2b1c0a19c0489bc22ede944ccf4ecbab4cc618ef3ed01eeffffffef51e1b804cc89d182d279655c3aa89e815b1b309fe287d9b2b55d57b90ec68a0100000000ffffffff02202cb206000000001976a9148280b37df378db99f66f85c95a783a76ac7a6d5988ac9093510d000000001976a9143bde42dbee7e4dbe6a21b2d50ce2f0167faa815988ac000247304402203609e17b84f6a7d30c80bfa610b5b4542f32a8a0d5447a12fb1366d7f01cc44a0220573a954c4518331561406f90300e8f3358f51928d43c212a8caed02de67eebee0121025476c2e83188368da1ff3e292e7acafcdb3566bb0ad253f62fc70f07aeeb635711000000';
    const tx = decodeTransaction(fromHex(hex));
    expect(tx.inputs[1]?.witness.length).toBe(2);
    expect(toHex(encodeTransaction(tx))).toBe(hex);
    expect(hashToHex(txid(tx))).toBe(
      'e8151a2af31c368a35053ddd4bdb285a8595c769a3ad83e0fa02314a602d4609',
    );
    expect(wtxid(tx)).not.toEqual(txid(tx));
  });

  it('rejects an unknown flag and a superfluous witness record', () => {
    expect(() => decodeTransaction(fromHex('0100000000020000000000'))).toThrow(/optional data/);
    // marker+flag, one input, no outputs, an empty witness stack
    const noWitness =
      `010000000001 01 ${'00'.repeat(32)} ffffffff 00 ffffffff 00 00 00000000`.replace(/ /g, '');
    expect(() => decodeTransaction(fromHex(noWitness))).toThrow(/superfluous/);
  });
});

describe('merkle root', () => {
  it('is the txid for one transaction and duplicates the last of an odd level', () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const c = new Uint8Array(32).fill(3);
    expect(merkleRoot([a]).root).toEqual(a);
    const abc = merkleRoot([a, b, c]);
    const abcc = merkleRoot([a, b, c, c]);
    expect(abc.root).toEqual(abcc.root);
    expect(abc.mutated).toBe(false);
    // CVE-2012-2459: the duplicated list has the same root but is flagged.
    expect(abcc.mutated).toBe(true);
  });
});
