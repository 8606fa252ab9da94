/**
 * Finding peers for one torrent through the DHT (BEP 5), and being found:
 *
 * - join through the bootstrap addresses and the saved routing table;
 * - `announce_peer` our TCP port at once and every `announceIntervalMs` (default 15 min; peers
 *   stored by DHT nodes expire after 30 min);
 * - while the download is incomplete, `get_peers` lookups 2 s apart, doubling up to 30 s;
 * - every peer a lookup returns, and every peer that announces the same info-hash to us, goes
 *   to `feed`.
 */
import type { DHT } from '@peerkit/kademlia';
import type { Address, Clock, Timer } from '@peerkit/transport';
import { describeError, errorCode } from './errors';
import type { NodeEventHandler } from './events';

export interface DhtDiscoveryOptions {
  dht: DHT;
  clock: Clock;
  infoHash: Uint8Array;
  /** Our TCP port, announced to the DHT. */
  port: number;
  bootstrap: readonly Address[];
  /**
   * The DHT was joined already, for many torrents (`seed-dir`: one node, one bootstrap): this
   * torrent waits for it instead of bootstrapping, and reports no `dht-ready` of its own.
   */
  joined?: Promise<number>;
  /** True once the download is complete (lookups stop then). */
  isDone: () => boolean;
  feed: (peer: Address) => void;
  emit: NodeEventHandler;
  announceIntervalMs?: number;
}

const LOOKUP_MIN_MS = 2_000;
const LOOKUP_MAX_MS = 30_000;

/** Starts joining, announcing and looking up in the background; `stop()` cancels it all. */
export function startDhtDiscovery(options: DhtDiscoveryOptions): { stop(): void } {
  const { dht, clock, infoHash, emit } = options;
  const timers: Timer[] = [];
  let stopped = false;
  const ours = (target: Uint8Array) => Buffer.compare(target, infoHash) === 0;
  const onPeer = ({ peer, infoHash: target }: { peer: Address; infoHash: Uint8Array }) => {
    if (!stopped && ours(target)) options.feed(peer);
  };
  const offPeer = dht.on('peer', onPeer);
  const offAnnounce = dht.on('announce', onPeer);
  const warn = (what: string, error: unknown) => {
    if (!stopped)
      emit({
        type: 'warning',
        code: errorCode(error),
        message: `${what}: ${describeError(error)}`,
      });
  };

  const announce = async () => {
    try {
      const result = await dht.announce(infoHash, options.port);
      if (!stopped)
        emit({ type: 'announced', nodes: result.announced, peers: result.peers.length });
    } catch (error) {
      warn('announce failed', error);
    }
  };
  let lookupDelay = LOOKUP_MIN_MS;
  const lookup = async () => {
    if (stopped || options.isDone()) return;
    try {
      const peers = await dht.getPeers(infoHash);
      if (!stopped) emit({ type: 'lookup', peers: peers.length });
    } catch (error) {
      warn('get_peers failed', error);
    }
    if (stopped || options.isDone()) return;
    timers.push(clock.setTimeout(() => void lookup(), lookupDelay));
    lookupDelay = Math.min(LOOKUP_MAX_MS, lookupDelay * 2);
  };

  void (async () => {
    const shared = options.joined !== undefined;
    const nodes = await (options.joined ?? dht.bootstrap(options.bootstrap)).catch(() => 0);
    if (stopped) return;
    if (!shared) emit({ type: 'dht-ready', nodes });
    if (nodes === 0 && !shared) {
      emit({
        type: 'warning',
        code: 'DHT_EMPTY',
        message: 'no DHT nodes answered: pass --bootstrap host:port (or --peer host:port)',
      });
    }
    await announce();
    if (stopped) return;
    timers.push(
      clock.setInterval(() => void announce(), options.announceIntervalMs ?? 15 * 60_000),
    );
    void lookup();
  })();

  return {
    stop() {
      stopped = true;
      for (const t of timers) t.cancel();
      offPeer();
      offAnnounce();
    },
  };
}
