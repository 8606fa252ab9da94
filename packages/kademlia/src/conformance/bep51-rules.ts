/**
 * BEP 51 rules (DHT Infohash Indexing, `sample_infohashes`). Not applicable when the node
 * answers `sample_infohashes` with error 204, not at all, or with a response without `samples`
 * (BEP 51: supporting nodes always include it, so that indexers can tell them from nodes that
 * answer unknown queries with a `target` as if they were find_node).
 */
import { defineRule, ensure, type Rule } from '@peerkit/conformance';
import * as fc from 'fast-check';
import { KRPC_ERROR, type KrpcResponse } from '../krpc';
import type { DhtContext } from './context';
import {
  arbId,
  bytesEqual,
  compactNodes,
  describeReply,
  expectResponse,
  hex,
  query,
  tokenOf,
} from './support';

const BEP51 = 'BEP 51';
const SAMPLE_BYTES = 20;
const MAX_INTERVAL = 21_600;

async function supportsBep51(ctx: DhtContext): Promise<string | undefined> {
  const { replies, sentinel } = await ctx.probe.exchangeWithSentinel(
    query(ctx, 'sample_infohashes', { target: ctx.network.random.bytes(20) }),
    ctx.probeId,
    ctx.timeoutMs,
  );
  const reply = replies[0];
  if (reply === undefined) {
    return sentinel === undefined
      ? 'no answer to sample_infohashes (nor to the ping after it)'
      : 'the node does not answer sample_infohashes (BEP 51 not supported)';
  }
  const m = reply.message;
  if (m?.y === 'e' && m.e.code === KRPC_ERROR.METHOD_UNKNOWN) {
    return 'the node answers sample_infohashes with error 204 (BEP 51 not supported)';
  }
  if (m?.y === 'r' && m.r.samples === undefined) {
    return `the node answers sample_infohashes without "samples" (BEP 51 not supported): ${describeReply(reply)}`;
  }
  // Anything else (a response with samples, another error, an undecodable datagram) is checked.
  return undefined;
}

/** The response must be a well-formed BEP 51 answer; returns it and its samples. */
function wellFormed(
  ctx: DhtContext,
  r: KrpcResponse,
  what: string,
): { num: number; samples: Uint8Array[] } {
  const { samples, num, interval } = r.r;
  ensure(samples !== undefined, `${what}: no "samples" key`);
  ensure(
    samples.length % SAMPLE_BYTES === 0,
    `${what}: "samples" is ${samples.length} bytes, not a multiple of ${SAMPLE_BYTES}`,
  );
  const count = samples.length / SAMPLE_BYTES;
  ensure(num !== undefined, `${what}: no "num" key`);
  ensure(num >= count, `${what}: "num" is ${num} but "samples" holds ${count} info-hashes`);
  ensure(interval !== undefined, `${what}: no "interval" key`);
  ensure(
    interval >= 0 && interval <= MAX_INTERVAL,
    `${what}: "interval" is ${interval}, outside 0-${MAX_INTERVAL}`,
  );
  compactNodes(ctx, r, what);
  const list: Uint8Array[] = [];
  for (let at = 0; at < samples.length; at += SAMPLE_BYTES)
    list.push(samples.subarray(at, at + SAMPLE_BYTES));
  return { num, samples: list };
}

const samplesRule = defineRule<
  DhtContext,
  { target: Uint8Array; infoHash: Uint8Array; port: number }
>({
  id: 'dht.bep51.samples',
  // Over IPv6 the nodes are in "nodes6", 38 bytes each (BEP 32; see `nodesKey`).
  title:
    'sample_infohashes is answered with "samples" (20-byte info-hashes), "num" ≥ their count, "interval" in 0-21600 and "nodes"; after an announce_peer, "num" ≥ 1 (and the info-hash is sampled when all fit)',
  cite: {
    spec: BEP51,
    section: 'Sampling RPC',
    // The BEP's words without its reStructuredText markup (``sample_infohashes`` etc.).
    text: "The new sample_infohashes remote procedure call requests that a remote node return a string of multiple concatenated infohashes (20 bytes each) for which it holds get_peers values. [...] The the permissible range is between 0 and 21600 seconds (inclusive). [...] The num field indicates how many infohash keys are currently in the node's storage.",
  },
  applies: supportsBep51,
  cases: () =>
    fc.record({ target: arbId(), infoHash: arbId(), port: fc.integer({ min: 1, max: 65535 }) }),
  async check(ctx, { target, infoHash, port }) {
    const sample = () =>
      ctx.probe.exchange(query(ctx, 'sample_infohashes', { target }), ctx.timeoutMs);
    wellFormed(ctx, expectResponse(await sample(), 'sample_infohashes'), 'sample_infohashes');
    const peers = expectResponse(
      await ctx.probe.exchange(query(ctx, 'get_peers', { infoHash }), ctx.timeoutMs),
      'get_peers',
    );
    const token = tokenOf(peers, 'get_peers');
    expectResponse(
      await ctx.probe.exchange(
        query(ctx, 'announce_peer', { infoHash, port, token }),
        ctx.timeoutMs,
      ),
      'announce_peer with the token it issued',
    );
    const what = `sample_infohashes after announcing ${hex(infoHash)}`;
    const after = wellFormed(ctx, expectResponse(await sample(), what), what);
    ensure(after.num >= 1, `${what}: "num" is ${after.num}`);
    // All stored info-hashes fit (num = the sample count): the sample is the whole store.
    if (after.num === after.samples.length) {
      ensure(
        after.samples.some((s) => bytesEqual(s, infoHash)),
        `${what}: "samples" holds all ${after.num} stored info-hashes ("num"), but not this one`,
      );
    }
  },
});

export const bep51Rules: readonly Rule<DhtContext>[] = [samplesRule];
