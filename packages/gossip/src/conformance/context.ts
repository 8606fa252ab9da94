/**
 * What the gossip rules know about their target: its address, raw peers to talk to it, a topic
 * it subscribes to (given, or the first one it announces), and — only when the test drives the
 * node itself — a way to make it publish.
 */

import type { TargetContext } from '@peerkit/conformance';
import type { Address, Network } from '@peerkit/transport';
import { RawPeer } from './raw-peer';

/** Makes the node under test publish `data` on the context's topic. */
export type PublishFn = (data: Uint8Array) => void | Promise<void>;

export interface GossipContext extends TargetContext {
  /** The network the raw peers dial from; rules wait only through its clock. */
  readonly network: Network;
  readonly address: Address;
  /** A topic the node subscribes to, if we know one. */
  readonly topic: string | undefined;
  /**
   * Makes the node publish on `topic`: a capability only a test that runs the node has (the
   * command line has none). Rules that need it are not applicable without it.
   */
  readonly publish: PublishFn | undefined;
  /** Connects a new raw peer (hello sent) and waits for the node's hello. */
  connect(): Promise<RawPeer>;
  /** Connects a raw peer that sends nothing yet. */
  dial(): Promise<RawPeer>;
  /** Waits `ms` on the network's clock. */
  sleep(ms: number): Promise<void>;
  /** Closes every raw peer still open. */
  close(): Promise<void>;
}

export interface GossipContextOptions {
  /** Longest wait for one expected answer, on the network's clock. */
  timeoutMs: number;
  /** A topic the node subscribes to (default: the first one it announces after its hello). */
  topic?: string;
  /** Makes the node publish on `topic` (enables `gossip.publish`). */
  publish?: PublishFn;
}

/** Opens the context of the gossip rules for the node listening at `address`. */
export async function openGossipContext(
  network: Network,
  address: Address,
  options: GossipContextOptions,
): Promise<GossipContext> {
  const { timeoutMs } = options;
  const open = new Set<RawPeer>();
  const track = (peer: RawPeer) => {
    open.add(peer);
    void peer.stream.closed.then(() => open.delete(peer));
    return peer;
  };
  const dial = async () =>
    track(await RawPeer.connect(network, address, { timeoutMs, hello: false }));
  const connect = async () => {
    const peer = track(await RawPeer.connect(network, address, { timeoutMs }));
    await peer.next((f) => (f.type === 'hello' ? f : undefined), timeoutMs);
    return peer;
  };
  let topic = options.topic;
  if (topic === undefined) {
    // Learn a topic from the subscriptions the node announces after its hello.
    const peer = await connect().catch(() => undefined);
    if (peer !== undefined) {
      await peer.next(() => (peer.subscriptions.size > 0 ? true : undefined), timeoutMs);
      topic = [...peer.subscriptions][0];
      peer.close();
    }
  }
  return {
    network,
    address,
    timeoutMs,
    topic,
    publish: options.publish,
    connect,
    dial,
    sleep: (ms) =>
      new Promise((resolve) => {
        network.clock.setTimeout(resolve, ms);
      }),
    async alive() {
      try {
        const peer = await connect();
        peer.close();
        return peer.hello !== undefined;
      } catch {
        return false;
      }
    },
    async close() {
      for (const peer of open) peer.close();
      open.clear();
    },
  };
}
