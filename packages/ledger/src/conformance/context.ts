/**
 * What the btc rules know about their target: its address, the network's magic and genesis,
 * the target's chain as its headers showed it at the start (hashes by height, up to 2,000), and
 * a way to open fresh raw connections.
 */

import type { TargetContext } from '@peerkit/conformance';
import type { Address, Network } from '@peerkit/transport';
import { REGTEST } from '../params';
import { blockHash } from '../primitives/block';
import { BtcProbe } from './probe';

export interface BtcContext extends TargetContext {
  readonly network: Network;
  readonly address: Address;
  readonly magic: Uint8Array;
  readonly genesisHash: Uint8Array;
  /** The target's active chain after genesis, as block hashes (index 0 = height 1), at most 2,000. */
  readonly chain: readonly Uint8Array[];
  /** The target's version message fields as seen in the first handshake. */
  readonly userAgent: string;
  readonly startHeight: number;
  /** A new raw connection, with the handshake done unless `handshake` is false. */
  open(handshake?: boolean): Promise<BtcProbe>;
  close(): Promise<void>;
}

export interface BtcContextOptions {
  timeoutMs: number;
  magic?: Uint8Array;
  genesisHash?: Uint8Array;
}

const ZERO = new Uint8Array(32);

export async function openBtcContext(
  network: Network,
  address: Address,
  options: BtcContextOptions,
): Promise<BtcContext> {
  const { timeoutMs } = options;
  const magic = options.magic ?? REGTEST.magic;
  const genesisHash = options.genesisHash ?? REGTEST.genesisHash;
  const probes = new Set<BtcProbe>();
  const open = async (handshake = true): Promise<BtcProbe> => {
    const probe = await BtcProbe.open(network, address, magic, timeoutMs);
    probes.add(probe);
    if (handshake) {
      const v = await probe.handshake(timeoutMs);
      if (!v) throw new Error(`no version/verack from ${address.host}:${address.port}`);
    }
    return probe;
  };
  const first = await BtcProbe.open(network, address, magic, timeoutMs);
  probes.add(first);
  const version = await first.handshake(timeoutMs);
  if (!version) throw new Error(`no handshake with ${address.host}:${address.port}`);
  first.send({ command: 'getheaders', version: 70016, locator: [genesisHash], stop: ZERO });
  const headers = await first.expect((m) => m.command === 'headers', timeoutMs);
  const chain = headers?.command === 'headers' ? headers.headers.map(blockHash) : [];
  first.close();
  let pingNonce = 1n;
  return {
    network,
    address,
    magic,
    genesisHash,
    chain,
    timeoutMs,
    userAgent: version.userAgent,
    startHeight: version.startHeight,
    open,
    async alive() {
      try {
        const p = await open(true);
        const nonce = pingNonce++;
        p.send({ command: 'ping', nonce });
        const pong = await p.expect((m) => m.command === 'pong' && m.nonce === nonce, timeoutMs);
        p.close();
        probes.delete(p);
        return pong !== undefined;
      } catch {
        return false;
      }
    },
    async close() {
      for (const p of probes) p.close();
      probes.clear();
    },
  };
}
