/**
 * The swarm policy on its own (pure, no sockets): redial backoff and forgetting, the connection
 * limit, reconnecting after a disconnect, trust points and bans.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BAN_TRUST,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HALF_OPEN,
  HOST_BAN_PEERS,
  MAX_CANDIDATES,
  MAX_DIAL_FAILURES,
  RECONNECT_DELAY_MS,
  REDIAL_BASE_MS,
  REDIAL_MAX_MS,
  redialDelay,
  SEED_REDIAL_MS,
  SwarmPolicy,
  TRUST_MAX,
  TRUST_PER_BAD_PIECE,
} from '../src/swarm-policy';

const a = (host: string, port = 6881) => ({ host, port });
const none = () => false;

describe('SwarmPolicy', () => {
  it('dials a candidate once, then backs off after each failure and forgets it after the last', () => {
    const swarm = new SwarmPolicy();
    expect(swarm.add(a('10.0.0.1'))).toBe(true);
    expect(swarm.add(a('10.0.0.1'))).toBe(false); // known already
    expect(swarm.due(0, 0, none)).toEqual([a('10.0.0.1')]);
    expect(swarm.due(0, 0, none)).toEqual([]); // a dial is under way
    expect(swarm.dialing).toBe(1);
    let now = 0;
    for (let failures = 1; failures < MAX_DIAL_FAILURES; failures++) {
      swarm.dialFailed(a('10.0.0.1'), now);
      expect(swarm.dialing).toBe(0);
      expect(swarm.due(now + redialDelay(failures) - 1, 0, none)).toEqual([]);
      now += redialDelay(failures);
      expect(swarm.due(now, 0, none)).toEqual([a('10.0.0.1')]);
    }
    swarm.dialFailed(a('10.0.0.1'), now);
    expect(swarm.candidates).toBe(0);
    expect(swarm.due(now + 3_600_000, 0, none)).toEqual([]);
  });

  it('a successful dial resets the backoff', () => {
    const swarm = new SwarmPolicy();
    swarm.add(a('10.0.0.1'));
    swarm.due(0, 0, none);
    swarm.dialFailed(a('10.0.0.1'), 0);
    swarm.due(REDIAL_BASE_MS, 0, none);
    swarm.dialSucceeded(a('10.0.0.1'));
    // Connected now: the torrent reports it as connected, so it is not due.
    expect(swarm.due(REDIAL_BASE_MS, 1, () => true)).toEqual([]);
    swarm.disconnected(a('10.0.0.1'), true, false, false, 10_000);
    expect(swarm.due(10_000 + RECONNECT_DELAY_MS - 1, 0, none)).toEqual([]);
    expect(swarm.due(10_000 + RECONNECT_DELAY_MS, 0, none)).toEqual([a('10.0.0.1')]);
    swarm.dialFailed(a('10.0.0.1'), 20_000);
    // One failure since the success: the first backoff step again.
    expect(swarm.due(20_000 + REDIAL_BASE_MS, 0, none)).toEqual([a('10.0.0.1')]);
  });

  it('two seeds do not redial each other for SEED_REDIAL_MS; a leecher we seed is redialled', () => {
    const swarm = new SwarmPolicy();
    swarm.add(a('10.0.0.1'));
    swarm.add(a('10.0.0.2'));
    swarm.add(a('10.0.0.3'));
    swarm.due(0, 0, none);
    for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) swarm.dialSucceeded(a(host));
    swarm.disconnected(a('10.0.0.1'), true, true, true, 100); // both seeds
    swarm.disconnected(a('10.0.0.2'), false, true, true, 100); // both seeds, it dialled us
    swarm.disconnected(a('10.0.0.3'), true, true, false, 100); // a leecher we seed
    expect(swarm.due(100 + RECONNECT_DELAY_MS, 0, none)).toEqual([a('10.0.0.3')]);
    expect(swarm.due(100 + SEED_REDIAL_MS - 1, 0, none)).toEqual([]);
    expect(swarm.due(100 + SEED_REDIAL_MS, 0, none)).toEqual([a('10.0.0.1'), a('10.0.0.2')]);
  });

  it('retries an address the user gave for the whole session, at most every REDIAL_MAX_MS', () => {
    const swarm = new SwarmPolicy();
    swarm.add(a('10.0.0.1'), true);
    let now = 0;
    for (let failures = 1; failures <= 100; failures++) {
      expect(swarm.due(now, 0, none)).toEqual([a('10.0.0.1')]);
      swarm.dialFailed(a('10.0.0.1'), now);
      expect(redialDelay(failures)).toBeLessThanOrEqual(REDIAL_MAX_MS);
      now += redialDelay(failures);
    }
    expect(swarm.candidates).toBe(1);
    // A PEX address given again by the user becomes permanent.
    swarm.add(a('10.0.0.2'));
    swarm.add(a('10.0.0.2'), true);
    for (let i = 0; i < MAX_DIAL_FAILURES + 2; i++) {
      now += REDIAL_MAX_MS;
      swarm.due(now, 0, none);
      swarm.dialFailed(a('10.0.0.2'), now);
    }
    expect(swarm.candidates).toBe(2);
  });

  it('keeps open connections and dials under the connection limit', () => {
    const swarm = new SwarmPolicy({ maxConnections: 3 });
    for (let i = 1; i <= 5; i++) swarm.add(a(`10.0.0.${i}`));
    expect(swarm.due(0, 1, none)).toHaveLength(2);
    expect(swarm.due(0, 1, none)).toHaveLength(0);
    expect(swarm.admit('10.0.0.9', 2, 0)).toBe('accept');
    expect(swarm.admit('10.0.0.9', 3, 0)).toBe('refuse');
    expect(new SwarmPolicy().limits.maxConnections).toBe(DEFAULT_MAX_CONNECTIONS);
  });

  it('limits half-open connections apart and evicts one for a newcomer, never an established one', () => {
    const swarm = new SwarmPolicy({ maxConnections: 10, maxHalfOpen: 4 });
    expect(swarm.admit('10.0.0.9', 0, 3)).toBe('accept');
    expect(swarm.admit('10.0.0.9', 0, 4)).toBe('evict-half-open');
    // Established and half-open together at the limit: a half-open one makes room.
    expect(swarm.admit('10.0.0.9', 8, 2)).toBe('evict-half-open');
    // Every slot established: refused.
    expect(swarm.admit('10.0.0.9', 10, 0)).toBe('refuse');
    expect(new SwarmPolicy().limits.maxHalfOpen).toBe(DEFAULT_MAX_HALF_OPEN);
  });

  it('remembers at most MAX_CANDIDATES addresses', () => {
    const swarm = new SwarmPolicy();
    for (let i = 0; i < MAX_CANDIDATES + 10; i++) swarm.add(a('10.0.0.1', 1000 + i));
    expect(swarm.candidates).toBe(MAX_CANDIDATES);
  });

  it('bans a peer after three failed pieces, not the others at its address; good pieces build trust', () => {
    const swarm = new SwarmPolicy();
    swarm.add(a('10.0.0.6', 1));
    swarm.add(a('10.0.0.6', 2));
    const liar = { host: '10.0.0.6', peerId: 'aa' };
    const honest = { host: '10.0.0.6', peerId: 'bb' };
    const failures = Math.ceil(DEFAULT_BAN_TRUST / TRUST_PER_BAD_PIECE);
    expect(failures).toBe(3);
    for (let i = 1; i < failures; i++) expect(swarm.pieceFailed([liar])).toEqual([]);
    expect(swarm.pieceFailed([liar])).toEqual([{ ...liar, wholeHost: false }]);
    expect(swarm.pieceFailed([liar])).toEqual([]); // banned once
    expect(swarm.isBanned('10.0.0.6', 'aa')).toBe(true);
    // The honest peer at the same address is still welcome.
    expect(swarm.isBanned('10.0.0.6', 'bb')).toBe(false);
    expect(swarm.isBanned('10.0.0.6')).toBe(false);
    expect(swarm.admit('10.0.0.6', 0, 0)).toBe('accept');
    expect(swarm.candidates).toBe(2);
    for (let i = 0; i < 20; i++) swarm.pieceVerified([honest]);
    expect(swarm.trustOf(honest)).toBe(TRUST_MAX);
    // A trusted peer survives a few failures.
    for (let i = 0; i < 5; i++) expect(swarm.pieceFailed([honest])).toEqual([]);
  });

  it('bans the whole address after HOST_BAN_PEERS banned peers there (a liar changing peer ids)', () => {
    const swarm = new SwarmPolicy();
    swarm.add(a('10.0.0.6'));
    for (let n = 1; n <= HOST_BAN_PEERS; n++) {
      const peer = { host: '10.0.0.6', peerId: `0${n}` };
      let bans = swarm.pieceFailed([peer]);
      while (bans.length === 0) bans = swarm.pieceFailed([peer]);
      expect(bans).toEqual([{ ...peer, wholeHost: n === HOST_BAN_PEERS }]);
    }
    expect(swarm.isBanned('10.0.0.6')).toBe(true);
    expect(swarm.candidates).toBe(0);
    expect(swarm.add(a('10.0.0.6'))).toBe(false);
    expect(swarm.admit('10.0.0.6', 0, 0)).toBe('refuse');
  });

  it('never has more dials under way than the limit allows, whatever happens', () => {
    type Op =
      | { op: 'add'; host: number }
      | { op: 'due'; open: number }
      | { op: 'ok' | 'fail'; host: number }
      | { op: 'time'; ms: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), host: fc.nat(20) }),
      fc.record({ op: fc.constant('due' as const), open: fc.nat(6) }),
      fc.record({ op: fc.constantFrom('ok' as const, 'fail' as const), host: fc.nat(20) }),
      fc.record({ op: fc.constant('time' as const), ms: fc.nat(40_000) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const swarm = new SwarmPolicy({ maxConnections: 8 });
        const dialing = new Set<string>();
        let now = 0;
        for (const o of ops) {
          if (o.op === 'add') swarm.add(a(`10.0.1.${o.host}`));
          else if (o.op === 'time') now += o.ms;
          else if (o.op === 'due') {
            const started = swarm.due(now, o.open, none);
            for (const d of started) {
              expect(dialing.has(d.host)).toBe(false);
              dialing.add(d.host);
            }
            // A dial is only started while open connections and dials stay within the limit.
            if (started.length > 0) expect(o.open + swarm.dialing).toBeLessThanOrEqual(8);
          } else if (dialing.delete(`10.0.1.${o.host}`)) {
            if (o.op === 'ok') swarm.dialSucceeded(a(`10.0.1.${o.host}`));
            else swarm.dialFailed(a(`10.0.1.${o.host}`), now);
          }
          expect(swarm.dialing).toBe(dialing.size);
        }
      }),
    );
  });
});
