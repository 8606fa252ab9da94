/**
 * `peerkit-share tracker`: piece-exchange's in-memory UDP tracker (BEP 15) as a program, to
 * see the protocol from the tracker's side: clients connect, announce and scrape; it answers
 * with the peers of each torrent, bounded in memory.
 */
import { UdpTrackerServer } from '@peerkit/piece-exchange';
import { isTransportError, type Network, nodeNetwork } from '@peerkit/transport';
import { CliError } from '../errors';

export interface TrackerCommandOptions {
  host?: string;
  /** UDP port (default 6969). */
  port?: number;
  /** Announce interval told to clients, seconds (default 1800). */
  interval?: number;
  network?: Network;
}

export async function runTracker(options: TrackerCommandOptions): Promise<UdpTrackerServer> {
  const port = options.port ?? 6969;
  try {
    return await UdpTrackerServer.open(options.network ?? nodeNetwork(), {
      host: options.host ?? '0.0.0.0',
      port,
      ...(options.interval !== undefined ? { interval: options.interval } : {}),
    });
  } catch (error) {
    if (isTransportError(error, 'ADDRESS_IN_USE'))
      throw new CliError(
        'PORT_IN_USE',
        `UDP port ${port} is already in use (choose another with --port)`,
        { cause: error },
      );
    throw error;
  }
}
