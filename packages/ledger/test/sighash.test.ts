import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeTransaction, fromHex, hashToHex } from '../src/index';
import { legacySighash } from '../src/script/sighash';

const VECTORS = new URL('../../../../shared/vectors/bitcoin/', import.meta.url);

describe('legacy signature hash (sighash.json, Core sighash_tests.cpp)', () => {
  it('reproduces all 500 vectors', () => {
    const rows = JSON.parse(readFileSync(new URL('sighash.json', VECTORS), 'utf8')) as unknown[][];
    let n = 0;
    for (const row of rows) {
      if (row.length === 1) continue;
      const [txHex, scriptHex, index, hashType, expected] = row as [
        string,
        string,
        number,
        number,
        string,
      ];
      const tx = decodeTransaction(fromHex(txHex));
      const { sighash } = legacySighash(tx, index, fromHex(scriptHex), hashType);
      // sighash_tests.cpp compares uint256::GetHex(): display (reversed) order.
      expect(hashToHex(sighash), `vector ${n}`).toBe(expected);
      n++;
    }
    expect(n).toBe(500);
  });
});
