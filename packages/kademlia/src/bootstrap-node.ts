/**
 * A standalone bootstrap node: a full DHT node that listens on a fixed UDP port so other nodes
 * can join through it (`dht.bootstrap([{ host, port }])`). It optionally joins existing nodes
 * itself, and saves its routing table on close so a restart re-bootstraps from what it knew.
 */
import type { Address, Network } from '@peerkit/transport';
import { DHT, type DHTOptions } from './dht';
import { loadState, saveState } from './persistence';

export interface BootstrapNodeOptions extends Omit<DHTOptions, 'network' | 'state'> {
  network: Network;
  /** UDP host to bind (default 0.0.0.0). */
  host?: string;
  /** UDP port to bind (default 6881). */
  port?: number;
  /** Other nodes to join at start. */
  bootstrap?: Address[];
  /** JSON file for the routing table: loaded at start (if present), written on close. */
  statePath?: string;
}

export interface BootstrapNode {
  readonly dht: DHT;
  readonly address: Address;
  /** Saves the state (if `statePath`) and closes the node. */
  close(): Promise<void>;
}

/** Starts a bootstrap node; resolves once it listens (and joined `bootstrap`, if given). */
export async function runBootstrapNode(options: BootstrapNodeOptions): Promise<BootstrapNode> {
  const { host, port, bootstrap, statePath, ...dhtOptions } = options;
  const state = statePath ? await loadState(statePath) : undefined;
  const dht = new DHT({ ...dhtOptions, ...(state ? { state } : {}) });
  const address = await dht.listen({ host: host ?? '0.0.0.0', port: port ?? 6881 });
  if ((bootstrap && bootstrap.length > 0) || state) await dht.bootstrap(bootstrap ?? []);
  return {
    dht,
    address,
    async close() {
      if (statePath) await saveState(statePath, dht.toState());
      await dht.close();
    },
  };
}
