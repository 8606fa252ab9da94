/** `peerkit-share dht-node`: a standalone DHT node others bootstrap from (BEP 5). */
import { type BootstrapNode, runBootstrapNode } from '@peerkit/kademlia';
import { type Address, isTransportError, type Network, nodeNetwork } from '@peerkit/transport';
import { CliError } from '../errors';

export interface DhtNodeOptions {
  host?: string;
  /** UDP port (default 6881). */
  port?: number;
  /** Nodes to join at start. */
  bootstrap?: Address[];
  /** Routing table file: loaded at start, saved on close. */
  statePath?: string;
  network?: Network;
}

export async function runDhtNode(options: DhtNodeOptions): Promise<BootstrapNode> {
  try {
    return await runBootstrapNode({
      network: options.network ?? nodeNetwork(),
      host: options.host ?? '0.0.0.0',
      port: options.port ?? 6881,
      ...(options.bootstrap && options.bootstrap.length > 0
        ? { bootstrap: options.bootstrap }
        : {}),
      ...(options.statePath !== undefined ? { statePath: options.statePath } : {}),
    });
  } catch (error) {
    if (isTransportError(error, 'ADDRESS_IN_USE')) {
      throw new CliError(
        'PORT_IN_USE',
        `UDP port ${options.port ?? 6881} is already in use (choose another with --port)`,
        {
          cause: error,
        },
      );
    }
    throw error;
  }
}
