import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, fromHex, isValidNodeIdForIp, isVerifiedNode, nodeIdForIp } from '../src/index';
import { seededRandom } from './helpers/clock';

const shared =
  process.env.PEERKIT_SHARED ?? new URL('../../../../shared/', import.meta.url).pathname;
const vectors = JSON.parse(
  readFileSync(`${shared}/vectors/dht/bep42_node_id_vectors.json`, 'utf8'),
) as { vectors: { ip: string; rand: number; node_id: string }[] };

describe('BEP 42 node id restriction', () => {
  it('CRC32C matches the Castagnoli check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it.each(vectors.vectors.map((v) => [v.ip, v.rand, v.node_id] as const))(
    'the BEP example id for %s (rand %d) verifies, and an id we derive matches its prefix',
    (ip, rand, nodeId) => {
      const id = fromHex(nodeId);
      expect(isValidNodeIdForIp(id, ip)).toBe(true);
      const ours = nodeIdForIp(ip, seededRandom(rand), rand)!;
      expect(ours[19]).toBe(rand);
      expect([...ours.subarray(0, 2)]).toEqual([...id.subarray(0, 2)]);
      expect(ours[2]! & 0xf8).toBe(id[2]! & 0xf8);
      // Another IP does not verify the same id.
      expect(isValidNodeIdForIp(id, '8.8.8.8')).toBe(false);
    },
  );

  it('ids derived for any IPv4 or IPv6 address verify for it', () => {
    const random = seededRandom(1);
    const ip = fc.oneof(
      fc.ipV4(),
      fc
        .uint8Array({ minLength: 16, maxLength: 16 })
        .map((b) =>
          Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16)).join(
            ':',
          ),
        ),
    );
    fc.assert(
      fc.property(ip, (host) => {
        expect(isValidNodeIdForIp(nodeIdForIp(host, random)!, host)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('is never enforced on loopback and private addresses', () => {
    const id = new Uint8Array(20);
    expect(isVerifiedNode(id, '127.0.0.1')).toBe(true);
    expect(isVerifiedNode(id, '::1')).toBe(true);
    expect(isVerifiedNode(id, '192.168.1.2')).toBe(true);
    expect(isVerifiedNode(id, '8.8.8.8')).toBe(false);
  });
});
