/**
 * Helpers the gossip rules share: the spec name they cite, byte comparison, and the raw-peer
 * steps most rules begin with (subscribe, graft).
 */
import { Buffer } from 'node:buffer';
import { ensure } from '@peerkit/conformance';
import { peerKey } from '../../ids';
import { defaultMessageId, type GossipMessage } from '../../message';
import type { Frame, PruneEntry } from '../../wire';
import type { GossipContext } from '../context';
import type { RawPeer } from '../raw-peer';

/** Every gossip rule cites the package README: its "Wire spec" and "How it works" sections. */
export const SPEC = 'peerkit gossip';

/** Hex of bytes, for rule reports (the package's one hex helper, `peerKey`). */
export const hex: (bytes: Uint8Array) => string = peerKey;

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.compare(a, b) === 0;
}

/** `applies` of the rules that need a topic the node subscribes to. */
export async function needsTopic(ctx: GossipContext): Promise<string | undefined> {
  return ctx.topic === undefined ? 'the node announces no subscription (pass --topic)' : undefined;
}

export function topicOf(ctx: GossipContext): string {
  ensure(ctx.topic !== undefined, 'no topic');
  return ctx.topic;
}

/** Subscribes `peer` to `topic` and, unless `graft` is false, grafts it into the node's mesh. */
export async function join(peer: RawPeer, topic: string, graft = true): Promise<void> {
  await peer.send({ type: 'rpc', subs: [{ topic, subscribe: true }] });
  if (graft) await peer.send({ type: 'rpc', control: { graft: [topic] } });
}

/** Matches an RPC carrying a PRUNE for `topic`. */
export const pruneFor =
  (topic: string) =>
  (f: Frame): PruneEntry | undefined =>
    f.type === 'rpc' ? f.control?.prune?.find((e) => e.topic === topic) : undefined;

/** A topic no node subscribes to: a peer's GRAFT for it is answered with a PRUNE. */
const BARRIER_TOPIC = 'conform/barrier';
/** Longest wait for the barrier's PRUNE (a node that never sends one just costs this wait). */
const BARRIER_MS = 1_000;

/**
 * Waits until the node has handled every frame `peers` sent so far (their subscriptions and
 * GRAFTs), instead of guessing with a sleep. The node reads each connection in order, and a
 * GRAFT for a topic it does not subscribe to is answered with a PRUNE (README, "The mesh");
 * so once that PRUNE is back, everything sent before it has been handled. Received frames up to
 * the PRUNE are dropped.
 */
export async function handled(ctx: GossipContext, ...peers: RawPeer[]): Promise<void> {
  await Promise.all(
    peers.map(async (peer) => {
      await join(peer, BARRIER_TOPIC); // a GRAFT counts only for a topic the peer announced
      await peer.next(pruneFor(BARRIER_TOPIC), Math.min(ctx.timeoutMs, BARRIER_MS));
    }),
  );
}

/** Matches an RPC carrying a message with the id of `m` (default message id: from || seqno). */
export const messageWith =
  (m: GossipMessage) =>
  (f: Frame): GossipMessage | undefined =>
    f.type === 'rpc'
      ? f.msgs?.find((x) => bytesEqual(defaultMessageId(x), defaultMessageId(m)))
      : undefined;

/** Matches an RPC announcing a subscription to `topic`. */
export const subscribedTo =
  (topic: string) =>
  (f: Frame): true | undefined =>
    f.type === 'rpc' && f.subs?.some((s) => s.topic === topic && s.subscribe) ? true : undefined;
