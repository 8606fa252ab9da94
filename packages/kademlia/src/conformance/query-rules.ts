/**
 * Rules of the four BEP 5 queries: ping, find_node, get_peers and announce_peer.
 */
import { defineRule, ensure, RuleViolation } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { type Contact, decodeCompactPeer } from '../compact';
import { KRPC_ERROR } from '../krpc';
import { idEquals } from '../node-id';
import type { DhtContext } from './context';
import type { KrpcProbe } from './probe';
import {
  arbId,
  arbTransactionId,
  BEP5,
  byDistance,
  bytesEqual,
  compactNodes,
  ERRORS_TEXT,
  expectError,
  expectResponse,
  hex,
  nodesKey,
  peerSize,
  query,
  tokenOf,
} from './support';

/** Nodes returned that are our own probes (the target may have added them): not part of the check. */
function notProbe(ctx: DhtContext, c: Contact): boolean {
  const ours = [ctx.probe.localAddress.port, ctx.otherProbe?.localAddress.port];
  const loopback = c.address.host.startsWith('127.') || c.address.host === '::1';
  return !ours.includes(c.address.port) || !loopback;
}

async function findNode(probe: KrpcProbe, ctx: DhtContext, target: Uint8Array): Promise<Contact[]> {
  const r = expectResponse(
    await probe.exchange(query(ctx, 'find_node', { target }), ctx.timeoutMs),
    'find_node',
  );
  return compactNodes(ctx, r, 'find_node').filter((c) => notProbe(ctx, c));
}

async function getPeers(probe: KrpcProbe, ctx: DhtContext, infoHash: Uint8Array) {
  return expectResponse(
    await probe.exchange(query(ctx, 'get_peers', { infoHash }), ctx.timeoutMs),
    'get_peers',
  );
}

/** The ports of the peers in "values" of the target's family (from `host` only, if given). */
function peerPorts(ctx: DhtContext, values: Uint8Array[] | undefined, host?: string): number[] {
  const out: number[] = [];
  for (const v of values ?? []) {
    if (v.length !== peerSize(ctx)) continue;
    const peer = decodeCompactPeer(v);
    if (host === undefined || peer.host === host) out.push(peer.port);
  }
  return out;
}

export const pingResponse = defineRule<DhtContext, { t: Uint8Array }>({
  id: 'dht.ping.response',
  title: 'ping is answered with the node id (20 bytes, the same in every answer)',
  cite: {
    spec: BEP5,
    section: 'ping',
    text: 'The appropriate response to a ping has a single key "id" containing the node ID of the responding node.',
  },
  cases: () => fc.record({ t: arbTransactionId() }),
  async check(ctx, { t }) {
    const r = expectResponse(
      await ctx.probe.exchange(query(ctx, 'ping', {}, t), ctx.timeoutMs),
      'ping',
    );
    ensure(r.r.id.length === 20, `id is ${r.r.id.length} bytes`);
    if (ctx.targetId !== undefined) {
      ensure(
        idEquals(r.r.id, ctx.targetId),
        `id changed from ${hex(ctx.targetId)} to ${hex(r.r.id)}`,
      );
    }
  },
});

const FIND_NODE_TEXT =
  'When a node receives a find_node query, it should respond with a key "nodes" and value of a string containing the compact node info for the target node or the K (8) closest good nodes in its own routing table.';

export const findNodeShape = defineRule<DhtContext, { target: Uint8Array }>({
  id: 'dht.find_node.nodes',
  // Over IPv6 the key is "nodes6", 38 bytes per node (BEP 32; see `nodesKey`).
  title: 'find_node is answered with "nodes", compact node info of 26 bytes per node',
  cite: { spec: BEP5, section: 'find_node / Contact Encoding', text: FIND_NODE_TEXT },
  cases: () => fc.record({ target: arbId() }),
  async check(ctx, { target }) {
    const r = expectResponse(
      await ctx.probe.exchange(query(ctx, 'find_node', { target }), ctx.timeoutMs),
      'find_node',
    );
    for (const c of compactNodes(ctx, r, 'find_node')) {
      ensure(c.address.port > 0, `node ${hex(c.id)} has port 0`);
    }
  },
});

export const findNodeK = defineRule<DhtContext, { target: Uint8Array }>({
  id: 'dht.find_node.k',
  title: 'find_node returns at most K = 8 nodes',
  cite: { spec: BEP5, section: 'find_node', text: FIND_NODE_TEXT },
  cases: () => fc.record({ target: arbId() }),
  async check(ctx, { target }) {
    const r = expectResponse(
      await ctx.probe.exchange(query(ctx, 'find_node', { target }), ctx.timeoutMs),
      'find_node',
    );
    const n = compactNodes(ctx, r, 'find_node').length;
    ensure(n <= 8, `returned ${n} nodes`);
  },
});

export const findNodeClosest = defineRule<DhtContext, { target: Uint8Array; others: Uint8Array[] }>(
  {
    id: 'dht.find_node.closest',
    title:
      'find_node returns the closest nodes it knows by XOR distance (no known closer node left out)',
    cite: { spec: BEP5, section: 'find_node', text: FIND_NODE_TEXT },
    cases: () =>
      fc.record({ target: arbId(), others: fc.array(arbId(), { minLength: 1, maxLength: 3 }) }),
    async check(ctx, { target, others }) {
      const known: Contact[] = [];
      for (const other of others) known.push(...(await findNode(ctx.probe, ctx, other)));
      const returned = await findNode(ctx.probe, ctx, target);
      known.push(...returned);
      const isReturned = (c: Contact) => returned.some((x) => idEquals(x.id, c.id));
      const sorted = byDistance(target, returned);
      const farthest = sorted[sorted.length - 1];
      for (const c of byDistance(target, known)) {
        if (isReturned(c)) continue;
        if (farthest === undefined || returned.length < 8) {
          throw new RuleViolation(
            `returned ${returned.length} node(s) for ${hex(target)} but left out ${hex(c.id)}, which it returned for another target`,
          );
        }
        if (byDistance(target, [c, farthest])[0] === c) {
          throw new RuleViolation(
            `left out ${hex(c.id)}, closer to ${hex(target)} than the returned ${hex(farthest.id)}`,
          );
        }
      }
    },
  },
);

export const findNodeExact = defineRule<DhtContext, { target: Uint8Array; pick: number }>({
  id: 'dht.find_node.exact',
  title: 'find_node for the id of a node it knows returns that node',
  cite: { spec: BEP5, section: 'find_node', text: FIND_NODE_TEXT },
  cases: () => fc.record({ target: arbId(), pick: fc.nat(7) }),
  async check(ctx, { target, pick }) {
    const first = await findNode(ctx.probe, ctx, target);
    const known = first[pick % Math.max(1, first.length)];
    if (known === undefined) return; // the node knows nobody: nothing to check
    const second = await findNode(ctx.probe, ctx, known.id);
    ensure(
      second.some((c) => idEquals(c.id, known.id)),
      `find_node(${hex(known.id)}) did not return that node, which find_node(${hex(target)}) returned`,
    );
  },
});

export const getPeersShape = defineRule<DhtContext, { infoHash: Uint8Array }>({
  id: 'dht.get_peers.response',
  // Over IPv6: 18-byte peers or "nodes6" (BEP 32; see `nodesKey` and `peerSize`).
  title:
    'get_peers is answered with a token and "values" (6-byte peers) or "nodes" (26-byte nodes)',
  cite: {
    spec: BEP5,
    section: 'get_peers',
    text: 'If the queried node has no peers for the infohash, a key "nodes" is returned containing the K nodes in the queried nodes routing table closest to the infohash supplied in the query. In either case a "token" key is also included in the return value.',
  },
  cases: () => fc.record({ infoHash: arbId() }),
  async check(ctx, { infoHash }) {
    const r = await getPeers(ctx.probe, ctx, infoHash);
    tokenOf(r, 'get_peers');
    const { key } = nodesKey(ctx);
    ensure(
      r.r.values !== undefined || r.r[key] !== undefined,
      `neither "values" nor "${key}" in the response`,
    );
    const size = peerSize(ctx);
    for (const v of r.r.values ?? [])
      ensure(v.length === size, `a peer in "values" is ${v.length} bytes, not ${size}`);
    if (r.r[key] !== undefined) compactNodes(ctx, r, 'get_peers');
  },
});

export const announceStored = defineRule<
  DhtContext,
  { infoHash: Uint8Array; port: number; implied: boolean }
>({
  id: 'dht.announce_peer.stored',
  title: 'announce_peer with a valid token is accepted, and get_peers then returns the peer',
  cite: {
    spec: BEP5,
    section: 'announce_peer',
    text: 'Then the queried node should store the IP address of the querying node and the supplied port number under the infohash in its store of peer contact information.',
  },
  cases: () =>
    fc.record({
      infoHash: arbId(),
      port: fc.integer({ min: 1, max: 65535 }),
      implied: fc.boolean(),
    }),
  async check(ctx, { infoHash, port, implied }) {
    const token = tokenOf(await getPeers(ctx.probe, ctx, infoHash), 'get_peers');
    const announce = query(ctx, 'announce_peer', { infoHash, port, token, impliedPort: implied });
    expectResponse(
      await ctx.probe.exchange(announce, ctx.timeoutMs),
      'announce_peer with the token it issued',
    );
    const expected = implied ? ctx.probe.localAddress.port : port;
    const after = await getPeers(ctx.probe, ctx, infoHash);
    const ports = peerPorts(ctx, after.r.values);
    ensure(
      ports.includes(expected),
      `get_peers after the announce returns ports [${ports.join(', ')}], not ${expected}${implied ? ' (implied_port: the UDP source port)' : ''}`,
    );
  },
});

export const announceOtherIp = defineRule<DhtContext, { infoHash: Uint8Array; port: number }>({
  id: 'dht.announce_peer.token-ip',
  title:
    'a token is refused (error 203) when it comes from another IP than the one it was issued to',
  cite: {
    spec: BEP5,
    section: 'announce_peer',
    text: 'The queried node must verify that the token was previously sent to the same IP address as the querying node.',
  },
  async applies(ctx) {
    return ctx.otherProbe === undefined
      ? 'needs a second source IP (127.0.0.2 for a target on IPv4 loopback)'
      : undefined;
  },
  cases: () => fc.record({ infoHash: arbId(), port: fc.integer({ min: 1, max: 65535 }) }),
  async check(ctx, { infoHash, port }) {
    const other = ctx.otherProbe;
    ensure(other !== undefined, 'no second source IP');
    const token = tokenOf(await getPeers(ctx.probe, ctx, infoHash), 'get_peers');
    const announce = query(ctx, 'announce_peer', { infoHash, port, token });
    expectError(
      await other.exchange(announce, ctx.timeoutMs),
      KRPC_ERROR.PROTOCOL,
      `announce_peer from ${other.localAddress.host} with a token issued to ${ctx.probe.localAddress.host}`,
    );
    const after = await getPeers(ctx.probe, ctx, infoHash);
    ensure(
      !peerPorts(ctx, after.r.values, other.localAddress.host).includes(port),
      'the refused announce was stored anyway',
    );
  },
});

export const announceBadToken = defineRule<
  DhtContext,
  { infoHash: Uint8Array; port: number; token: Uint8Array }
>({
  id: 'dht.announce_peer.bad-token',
  title: 'announce_peer with a token it never issued is refused with error 203 and not stored',
  cite: { spec: BEP5, section: 'Errors', text: ERRORS_TEXT },
  cases: () =>
    fc.record({
      infoHash: arbId(),
      port: fc.integer({ min: 1, max: 65535 }),
      token: fc.uint8Array({ minLength: 0, maxLength: 20 }),
    }),
  async check(ctx, { infoHash, port, token }) {
    const before = await getPeers(ctx.probe, ctx, infoHash);
    const issued = tokenOf(before, 'get_peers');
    fc.pre(!bytesEqual(issued, token) && !peerPorts(ctx, before.r.values).includes(port));
    const announce = query(ctx, 'announce_peer', { infoHash, port, token });
    expectError(
      await ctx.probe.exchange(announce, ctx.timeoutMs),
      KRPC_ERROR.PROTOCOL,
      'announce_peer with a token it never issued',
    );
    const after = await getPeers(ctx.probe, ctx, infoHash);
    ensure(
      !peerPorts(ctx, after.r.values).includes(port),
      'the refused announce was stored anyway',
    );
  },
});
