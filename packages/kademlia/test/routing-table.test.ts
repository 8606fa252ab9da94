import { describe, expect, it } from 'vitest';
import { RoutingTable, toHex } from '../src/index';
import { ManualClock } from './helpers/clock';

/** An id in the far half (bucket 0) of a table whose own id is all zeros. */
const far = (n: number) => {
  const id = new Uint8Array(20);
  id[0] = 0x80;
  id[19] = n;
  return id;
};
const contact = (n: number) => ({ id: far(n), address: { host: '10.0.0.1', port: 1000 + n } });

describe('RoutingTable details', () => {
  it('prefers BEP 42-verified replacements, and evicts unverified ones from a full cache first', () => {
    const clock = new ManualClock();
    const table = new RoutingTable(new Uint8Array(20), clock, { k: 2, replacementCacheSize: 2 });
    // Bucket 0 holds ids starting with bit 1; fill it (table split makes bucket 0 full).
    for (let i = 0; i < 3; i++) {
      const id = new Uint8Array(20);
      id[19] = i + 1; // near our own id: forces splits, keeps bucket 0 for far ids
      table.observe({ id, address: { host: '10.0.0.2', port: i + 1 } }, 'response');
    }
    table.observe(contact(1), 'response');
    table.observe(contact(2), 'response');
    const bucket = table.bucketIndexOf(far(0));
    expect(table.bucketNodes(bucket)).toHaveLength(2);
    clock.advance(1);
    table.observe(contact(3), 'response', true); // verified, older
    clock.advance(1);
    table.observe(contact(4), 'response', false); // unverified, newer
    clock.advance(1);
    table.observe(contact(5), 'response', false); // full cache: the unverified 4 makes room
    expect(table.bucketReplacements(bucket).map((n) => n.id[19])).toEqual([3, 5]);
    const { removed, promoted } = table.fail(far(1), true);
    expect(removed?.id[19]).toBe(1);
    expect(promoted?.id[19]).toBe(3); // verified beats more recent
    expect(table.bucketNodes(bucket).map((n) => toHex(n.id))).toContain(toHex(far(3)));
  });

  it('ignores an id claimed from another address while the old one is not bad', () => {
    const clock = new ManualClock();
    const table = new RoutingTable(new Uint8Array(20), clock);
    table.observe(contact(1), 'response');
    const hijack = { id: far(1), address: { host: '10.9.9.9', port: 1 } };
    expect(table.observe(hijack, 'response').kind).toBe('ignored');
    table.fail(far(1), true);
    expect(table.observe(hijack, 'response').kind).toBe('updated');
    expect(table.get(far(1))?.address.host).toBe('10.9.9.9');
  });
});
