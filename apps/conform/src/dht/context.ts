/**
 * What the DHT rules know about their target: its address, probes to talk to it (a second one
 * from another loopback IP for the token rules), and its node id as it answered a first ping.
 */
import type { Address, Network } from '@peerkit/transport';
import type { TargetContext } from '../framework/rule';
import { KrpcProbe, Pacer } from './probe';

export interface DhtContext extends TargetContext {
  readonly network: Network;
  readonly address: Address;
  /** Sends from the usual local address (127.0.0.1 for a loopback target). */
  readonly probe: KrpcProbe;
  /**
   * Sends from another IP of the same host (127.0.0.2), for rules about tokens bound to an IP;
   * undefined when the target is not on IPv4 loopback.
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
}

function localHostFor(target: Address): string {
  if (target.host.startsWith('127.')) return '127.0.0.1';
  if (target.host === '::1') return '::1';
  return target.host.includes(':') ? '::' : '0.0.0.0';
}

/** Opens the probes and pings the target once. */
export async function openDhtContext(
  network: Network,
  address: Address,
  options: DhtContextOptions,
): Promise<DhtContext> {
  const { timeoutMs } = options;
  const pacer = new Pacer(network, options.rate);
  const probe = await KrpcProbe.open(network, address, localHostFor(address), pacer);
  const liveness = await KrpcProbe.open(network, address, localHostFor(address), pacer);
  let otherProbe: KrpcProbe | undefined;
  if (address.host.startsWith('127.')) {
    otherProbe = await KrpcProbe.open(network, address, '127.0.0.2', pacer).catch(() => undefined);
  }
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
