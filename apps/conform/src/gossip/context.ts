/**
 * What the gossip rules know about their target: its address, raw peers to talk to it, and a
 * topic it subscribes to (given, or the first one it announces).
 */
import type { Address, Network } from '@peerkit/transport';
import type { TargetContext } from '../framework/rule';
import { GossipPeer } from './peer';

export interface GossipContext extends TargetContext {
  readonly network: Network;
  readonly address: Address;
  /** A topic the node subscribes to, if we know one. */
  readonly topic: string | undefined;
  /** Connects a new raw peer (hello sent) and waits for the node's hello. */
  connect(): Promise<GossipPeer>;
  /** Connects a raw peer that sends nothing yet. */
  dial(): Promise<GossipPeer>;
  close(): Promise<void>;
}

export async function openGossipContext(
  network: Network,
  address: Address,
  options: { timeoutMs: number; topic?: string },
): Promise<GossipContext> {
  const { timeoutMs } = options;
  const open = new Set<GossipPeer>();
  const track = (peer: GossipPeer) => {
    open.add(peer);
    void peer.stream.closed.then(() => open.delete(peer));
    return peer;
  };
  const dial = async () => track(await GossipPeer.connect(network, address, timeoutMs, false));
  const connect = async () => {
    const peer = track(await GossipPeer.connect(network, address, timeoutMs));
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
    connect,
    dial,
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
