/**
 * The pure lookup state machine against a static simulated network (no I/O): every node has a
 * Kademlia routing table; the lookup must end with the k closest live nodes it learned about
 * (nothing it heard of is closer) while keeping at most alpha queries in flight. That it finds
 * the true k closest of a whole network is shown by the netsim scenarios.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Contact, commonPrefixLength, compareDistance, Lookup, toHex } from '../src/index';
import { arbNodeId } from '../src/testing';

const contact = (id: Uint8Array, i: number): Contact => ({
  id,
  address: { host: '10.0.0.1', port: i + 1 },
});

describe('Lookup (iterative, alpha = 3, closest first)', () => {
  it('ends with the k closest live nodes it learned of, alpha in flight at most (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(arbNodeId(), { minLength: 30, maxLength: 120, selector: toHex }),
        arbNodeId(),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (ids, target, seed) => {
          const nodes = ids.map(contact);
          let r = seed;
          const rand = (n: number) => {
            r = (Math.imul(r, 1103515245) + 12345) >>> 0;
            return r % n;
          };
          // Each node has a Kademlia routing table: up to 8 random nodes per bucket (common
          // prefix length with its own id), and answers with the 8 closest it knows.
          const knows = nodes.map((n) => {
            const buckets = new Map<number, Contact[]>();
            for (const m of [...nodes].sort(() => rand(3) - 1)) {
              if (m === n) continue;
              const b = commonPrefixLength(n.id, m.id);
              const list = buckets.get(b) ?? [];
              if (list.length < 8) list.push(m);
              buckets.set(b, list);
            }
            return [...buckets.values()].flat();
          });
          const answer = (c: Contact) =>
            [...knows[c.address.port - 1]!]
              .sort((a, b) => compareDistance(target, a.id, b.id))
              .slice(0, 8);
          const lookup = new Lookup(target, [nodes[0]!, nodes[1]!]);
          const learned = new Map([nodes[0]!, nodes[1]!].map((n) => [toHex(n.id), n]));
          const inFlight: Contact[] = [];
          for (let step = 0; step < 1000 && !lookup.done; step++) {
            for (const c of lookup.next()) inFlight.push(c.contact);
            expect(inFlight.length).toBeLessThanOrEqual(3);
            const c = inFlight.splice(rand(inFlight.length), 1)[0];
            if (!c) break;
            if (c.address.port % 11 === 0) lookup.fail(c.id);
            else {
              const reply = answer(c);
              for (const n of reply) learned.set(toHex(n.id), n);
              lookup.respond(c.id, reply);
            }
          }
          expect(lookup.done).toBe(true);
          // Sound termination: nothing the lookup learned about is closer than its result.
          const alive = [...learned.values()].filter((n) => n.address.port % 11 !== 0);
          const truth = alive
            .sort((a, b) => compareDistance(target, a.id, b.id))
            .slice(0, 8)
            .map((n) => toHex(n.id));
          expect(lookup.closest().map((c) => toHex(c.contact.id))).toEqual(truth);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('queries closest first and ends when the k closest answered', () => {
    const target = new Uint8Array(20);
    const ids = Array.from({ length: 12 }, (_, i) => {
      const id = new Uint8Array(20);
      id[19] = i + 1; // distance i + 1
      return id;
    });
    const lookup = new Lookup(target, ids.map(contact).reverse());
    const first = lookup.next();
    expect(first.map((c) => c.contact.id[19])).toEqual([1, 2, 3]);
    expect(lookup.next()).toEqual([]);
    lookup.slow(ids[0]!);
    const fourth = lookup.next();
    expect(fourth.map((c) => c.contact.id[19])).toEqual([4]);
    for (const c of [...first, ...fourth]) lookup.respond(c.contact.id, []);
    let guard = 0;
    while (!lookup.done && guard++ < 20)
      for (const c of lookup.next()) lookup.respond(c.contact.id, []);
    expect(lookup.closest().map((c) => c.contact.id[19])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lookup.queried).toBe(8); // nodes 9..12 were never needed
    expect(lookup.rounds).toBe(1);
  });
});
