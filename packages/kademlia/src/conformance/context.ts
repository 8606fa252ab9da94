/**
 * What the DHT rules know about their target: its address, probes to talk to it (a second one
 * from another IP for the token rules, where there is one), and its node id as it answered a
 * first ping.
 */

import type { TargetContext } from '@peerkit/conformance';
import type { Address, Network } from '@peerkit/transport';
import type { IpFamily } from '../compact';
import { KrpcProbe, localHostFor, Pacer } from './probe';

export interface DhtContext extends TargetContext {
  readonly network: Network;
  readonly address: Address;
  /**
   * The address family the target is queried over. BEP 32: without "want", a reply over IPv4
   * carries "nodes" and 6-byte peers, over IPv6 "nodes6" and 18-byte peers.
   */
  readonly family: IpFamily;
  /** Sends from the usual local address (127.0.0.1 for a loopback target). */
  readonly probe: KrpcProbe;
  /**
   * Sends from another IP (127.0.0.2 next to 127.0.0.1, or `otherSource`), for rules about
   * tokens bound to an IP; undefined when there is none.
   */
  readonly otherProbe: KrpcProbe | undefined;
  /** The node id of our probes (a constant, so the target's routing table sees one node). */
  readonly probeId: Uint8Array;
  /** The target's node id from its answer to the first ping, if it answered. */
  readonly targetId: Uint8Array | undefined;
  close(): Promise<void>;
}

export interface DhtContextOptions {
  timeoutMs: number;
  /** Most datagrams per second sent to the target (default: no limit). */
  rate?: number;
  /**
   * The local host the probes bind to (default: `localHostFor(address)`, the loopback of the
   * target's family for a loopback target). In a simulated network: the probing host's address.
   */
  localHost?: string;
  /**
   * Where the second probe sends from (another IP than `localHost`). Default: 127.0.0.2 when
   * the target is on IPv4 loopback and the probes send from 127.0.0.1, else no second probe
   * (the rules that need one are not applicable). In a simulated network: a second host.
   */
  otherSource?: { network: Network; host: string };
}

/**
 * Opens the probes and pings the target once. Every wait goes through `network.clock`, so the
 * context works on real sockets (`nodeNetwork()`) and in a simulated network alike.
 */
export async function openDhtContext(
  network: Network,
  address: Address,
  options: DhtContextOptions,
): Promise<DhtContext> {
  const { timeoutMs } = options;
  const pacer = new Pacer(network, options.rate);
  const localHost = options.localHost ?? localHostFor(address);
  const probe = await KrpcProbe.open(network, address, localHost, pacer);
  const liveness = await KrpcProbe.open(network, address, localHost, pacer);
  let otherSource = options.otherSource;
  if (otherSource === undefined && address.host.startsWith('127.') && localHost === '127.0.0.1') {
    otherSource = { network, host: '127.0.0.2' };
  }
  const otherProbe =
    otherSource === undefined
      ? undefined
      : await KrpcProbe.open(otherSource.network, address, otherSource.host, pacer).catch(
          () => undefined,
        );
  const probeId = network.random.bytes(20);
  let ping = 0;
  const pingOnce = async (): Promise<Uint8Array | undefined> => {
    ping = (ping + 1) & 0xffff;
    const t = new Uint8Array([0x6c, 0x76, ping >> 8, ping & 0xff]);
    const reply = await liveness.exchange({ t, y: 'q', q: 'ping', a: { id: probeId } }, timeoutMs);
    const m = reply?.message;
    return m?.y === 'r' ? m.r.id : undefined;
  };
  const targetId = await pingOnce();
  return {
    network,
    address,
    family: address.host.includes(':') ? 6 : 4,
    timeoutMs,
    probe,
    otherProbe,
    probeId,
    targetId,
    async alive() {
      // A node may drop one datagram now and then: ask twice before calling it dead.
      return (await pingOnce()) !== undefined || (await pingOnce()) !== undefined;
    },
    async close() {
      await Promise.all([probe.close(), liveness.close(), otherProbe?.close()]);
    },
  };
}
