/**
 * The DHT node (BEP 5, @peerkit/kademlia) of a `share`/`get` node or of `seed-dir`: bound on UDP
 * (the uTP socket's datagram side when uTP is on: one UDP port, as libtorrent does), started
 * from the routing table saved in the state directory last time, saved again on close.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DHT, loadState, saveState } from '@peerkit/kademlia';
import { isTransportError, type Network } from '@peerkit/transport';
import { CliError, describeError, errorCode } from './errors';
import type { NodeEventHandler } from './events';

/** Wraps a TCP/UDP bind failure into the CLI's one-line error. */
export function bindError(
  error: unknown,
  what: string,
  port: number | undefined,
  flag: '--port' | '--dht-port',
): unknown {
  if (isTransportError(error, 'ADDRESS_IN_USE')) {
    return new CliError(
      'PORT_IN_USE',
      `${what} port ${port ?? 0} is already in use (choose another with ${flag})`,
      { cause: error },
    );
  }
  return error;
}

/** A DHT node on UDP, from the routing table saved last time (at `dhtPath`) when there is one. */
export async function openDht(
  dhtPath: string,
  network: Network,
  host: string,
  port: number,
  emit: NodeEventHandler,
): Promise<DHT> {
  const state = await loadState(dhtPath).catch((error: unknown) => {
    emit({
      type: 'warning',
      code: errorCode(error),
      message: `ignoring saved DHT table: ${describeError(error)}`,
    });
    return undefined;
  });
  const dht = new DHT({ network, ...(state ? { state } : {}) });
  try {
    await dht.listen({ host, port });
  } catch (error) {
    await dht.close();
    throw bindError(error, 'UDP', port, '--dht-port');
  }
  return dht;
}

/** Saves the DHT routing table (for the next run without `--bootstrap`) and closes the node. */
export async function closeDht(dht: DHT, path: string, emit: NodeEventHandler): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await saveState(path, dht.toState());
  } catch (error) {
    emit({
      type: 'warning',
      code: errorCode(error),
      message: `cannot save DHT table: ${describeError(error)}`,
    });
  }
  await dht.close();
}
