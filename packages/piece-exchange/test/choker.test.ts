import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChokerPeer,
  type ChokerState,
  initialChokerState,
  OPTIMISTIC_INTERVAL_MS,
  RECHOKE_INTERVAL_MS,
  rechoke,
} from '../src/choker';
import { arbChokerPeers, chokerRuleViolations } from '../src/testing/choker-rules';
import { seededRandom } from './helpers';

const peersArb = arbChokerPeers();

function checkRules(peers: ChokerPeer[], seeding: boolean, result: ReturnType<typeof rechoke>) {
  const decision = { ...result, optimistic: result.state.optimistic };
  expect(chokerRuleViolations(peers, seeding, decision)).toEqual([]);
}

describe('choker (BEP 3 rules)', () => {
  it('one rechoke obeys the slot, rate and optimistic rules', () => {
    fc.assert(
      fc.property(peersArb, fc.boolean(), fc.integer(), (peers, seeding, seed) => {
        const result = rechoke({
          peers,
          seeding,
          now: 300_000,
          state: initialChokerState,
          random: seededRandom(seed),
        });
        checkRules(peers, seeding, result);
      }),
      { numRuns: 1000 },
    );
  });

  it('rechoking every 10 s keeps the optimistic unchoke for 30 s, then rotates it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(peersArb, fc.boolean()), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        (rounds, seed) => {
          const random = seededRandom(seed);
          let state: ChokerState = initialChokerState;
          let now = 100_000;
          for (const [peers, seeding] of rounds) {
            const before = state;
            const result = rechoke({ peers, seeding, now, state, random });
            checkRules(peers, seeding, result);
            const prev = peers.find((p) => p.id === before.optimistic);
            const stillValid = prev?.interested && !prev.isSeed;
            if (stillValid && now - before.optimisticSince < OPTIMISTIC_INTERVAL_MS) {
              expect(result.state).toEqual(before);
            }
            const others = peers.filter(
              (p) => p.interested && !p.isSeed && p.id !== before.optimistic,
            );
            if (now - before.optimisticSince >= OPTIMISTIC_INTERVAL_MS && others.length > 0) {
              expect(result.state.optimistic).not.toBe(before.optimistic);
              expect(result.state.optimisticSince).toBe(now);
            }
            state = result.state;
            now += RECHOKE_INTERVAL_MS;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('ranks by download rate when leeching and by upload rate when seeding', () => {
    const peers: ChokerPeer[] = Array.from({ length: 8 }, (_, id) => ({
      id,
      interested: true,
      downloadRate: id * 10,
      uploadRate: (8 - id) * 10,
      connectedAt: 0,
      snubbed: false,
      isSeed: false,
    }));
    const leech = rechoke({
      peers,
      seeding: false,
      now: 1e6,
      state: { optimistic: 0, optimisticSince: 1e6 },
      random: seededRandom(1),
    });
    expect([...leech.downloaders]).toEqual([7, 6, 5]);
    const seed = rechoke({
      peers,
      seeding: true,
      now: 1e6,
      state: { optimistic: 7, optimisticSince: 1e6 },
      random: seededRandom(1),
    });
    expect([...seed.downloaders]).toEqual([0, 1, 2]);
  });

  it('newly connected peers are about three times as likely to be the optimistic unchoke', () => {
    const peers: ChokerPeer[] = [
      {
        id: 1,
        interested: true,
        downloadRate: 0,
        uploadRate: 0,
        connectedAt: 0,
        snubbed: false,
        isSeed: false,
      },
      {
        id: 2,
        interested: true,
        downloadRate: 0,
        uploadRate: 0,
        connectedAt: 990_000,
        snubbed: false,
        isSeed: false,
      },
    ];
    const random = seededRandom(77);
    let fresh = 0;
    for (let i = 0; i < 4000; i++) {
      const r = rechoke({
        peers,
        seeding: false,
        now: 1e6,
        state: initialChokerState,
        random,
        regularSlots: 1,
      });
      if (r.state.optimistic === 2) fresh++;
    }
    expect(fresh / 4000).toBeGreaterThan(0.7);
    expect(fresh / 4000).toBeLessThan(0.8);
  });
});
