import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RoutingTable, toHex } from '../src/index';
import { NodeRecords } from '../src/node-records';
import { ManualClock } from './helpers/clock';

interface Fields {
  id: string;
  host: string;
  port: number;
  verified: boolean;
  failures: number;
  lastResponse: number | undefined;
  lastQuery: number | undefined;
}

const arbFields = fc.record({
  id: fc.uint8Array({ minLength: 20, maxLength: 20 }),
  host: fc.constantFrom('10.0.0.1', '10.0.0.2', '::1', '2001:db8::7'),
  port: fc.integer({ min: 0, max: 65535 }),
  verified: fc.boolean(),
  failures: fc.integer({ min: 0, max: 70_000 }),
  lastResponse: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
  lastQuery: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
});

describe('NodeRecords (packed routing-table storage)', () => {
  it('every live slot reads back what was written, across adds, releases and growth', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(arbFields, fc.nat(1000)), { minLength: 1, maxLength: 120 }),
        (ops) => {
          const records = new NodeRecords();
          const model = new Map<number, Fields>();
          for (const op of ops) {
            if (typeof op === 'number') {
              const live = [...model.keys()];
              if (live.length === 0) continue;
              const slot = live[op % live.length]!;
              records.release(slot);
              model.delete(slot);
              continue;
            }
            const slot = records.add(op.id, { host: op.host, port: op.port }, op.verified);
            expect(model.has(slot)).toBe(false);
            expect(records.failures(slot)).toBe(0);
            expect(records.lastResponse(slot)).toBeUndefined();
            records.setFailures(slot, op.failures);
            records.setLastResponse(slot, op.lastResponse);
            records.setLastQuery(slot, op.lastQuery);
            model.set(slot, { ...op, id: toHex(op.id), failures: Math.min(op.failures, 0xffff) });
          }
          for (const [slot, f] of model) {
            expect(toHex(records.id(slot))).toBe(f.id);
            expect(records.address(slot)).toEqual({ host: f.host, port: f.port });
            expect(records.verified(slot)).toBe(f.verified);
            expect(records.failures(slot)).toBe(f.failures);
            expect(records.lastResponse(slot)).toBe(f.lastResponse);
            expect(records.lastQuery(slot)).toBe(f.lastQuery);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('keeps no view into the datagram an id was decoded from', () => {
    const table = new RoutingTable(new Uint8Array(20), new ManualClock());
    const datagram = new Uint8Array(1500).fill(0x80);
    table.observe(
      { id: datagram.subarray(100, 120), address: { host: '10.0.0.1', port: 1 } },
      'query',
    );
    const [node] = table.nodes();
    expect(node?.id.buffer.byteLength).toBe(20);
    datagram.fill(0);
    expect(node?.id.every((b) => b === 0x80)).toBe(true);
    expect(table.get(new Uint8Array(20).fill(0x80))).toBeDefined();
  });
});
