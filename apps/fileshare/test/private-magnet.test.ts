/**
 * BEP 27 for a magnet: the node cannot know the torrent is private before the metadata arrives
 * (BEP 9), so it starts its DHT lookups; the moment the metadata says `private`, the lookups and
 * announces for it stop. A public torrent's lookups go on. Driven by a manual clock with a DHT and
 * a torrent standing in for the real ones (the calls `startPeerSources` makes).
 */
import type { DHT } from '@peerkit/kademlia';
import type { Torrent, TorrentInfo } from '@peerkit/piece-exchange';
import { type Clock, Emitter, nodeNetwork, type Timer } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import type { NodeEvent } from '../src/events';
import { startPeerSources } from '../src/node-peers';

/** Timers that run when `advance` says so. */
class ManualClock implements Clock {
  #now = 0;
  #timers: { at: number; every?: number; run: () => void; live: boolean }[] = [];
  now(): number {
    return this.#now;
  }
  setTimeout(run: () => void, ms: number): Timer {
    const t = { at: this.#now + ms, run, live: true };
    this.#timers.push(t);
    return {
      cancel: () => {
        t.live = false;
      },
    };
  }
  setInterval(run: () => void, ms: number): Timer {
    const t = { at: this.#now + ms, every: ms, run, live: true };
    this.#timers.push(t);
    return {
      cancel: () => {
        t.live = false;
      },
    };
  }
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#timers.filter((t) => t.live).sort((a, b) => a.at - b.at)[0];
      if (next === undefined || next.at > end) break;
      this.#now = next.at;
      if (next.every !== undefined) next.at += next.every;
      else next.live = false;
      next.run();
      await flush();
    }
    this.#now = end;
    await flush();
  }
}

/** Lets pending promise chains run (no time passes on the manual clock). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

class FakeTorrent extends Emitter<{ metadata: TorrentInfo }> {
  done = false;
  info: TorrentInfo | undefined = undefined;
  peerId = new Uint8Array(20);
  addPeer(): void {}
  stats() {
    return { uploaded: 0, downloaded: 0, left: undefined };
  }
  /** The metadata arrived (BEP 9). */
  fetched(info: TorrentInfo): void {
    this.info = info;
    this.emit('metadata', info);
  }
}

function fakes(clock: ManualClock) {
  const calls = { getPeers: 0, announce: 0 };
  const dht = Object.assign(new Emitter<{ peer: never; announce: never }>(), {
    bootstrap: async () => 8,
    announce: async () => {
      calls.announce++;
      return { announced: 8, peers: [] };
    },
    getPeers: async () => {
      calls.getPeers++;
      return [];
    },
  });
  const torrent = new FakeTorrent();
  const events: NodeEvent[] = [];
  const sources = startPeerSources({
    torrent: torrent as unknown as Torrent,
    dht: dht as unknown as DHT,
    address: { host: '127.0.0.1', port: 6881 },
    clock,
    network: nodeNetwork(),
    host: '127.0.0.1',
    infoHash: new Uint8Array(20).fill(9),
    peers: [],
    trackers: [],
    bootstrap: [],
    announceIntervalMs: 60_000,
    done: new Promise<void>(() => undefined),
    emit: (e) => events.push(e),
  });
  return { calls, torrent, sources };
}

describe('a magnet whose metadata turns out private (BEP 27)', () => {
  for (const isPrivate of [true, false]) {
    it(`${isPrivate ? 'private: DHT lookups and announces stop' : 'public: they go on'} once the metadata arrives`, async () => {
      const clock = new ManualClock();
      const { calls, torrent, sources } = fakes(clock);
      await clock.advance(0);
      expect(calls).toEqual({ getPeers: 1, announce: 1 });
      torrent.fetched({ private: isPrivate } as unknown as TorrentInfo);
      await clock.advance(10 * 60_000);
      if (isPrivate) expect(calls).toEqual({ getPeers: 1, announce: 1 });
      else {
        expect(calls.getPeers).toBeGreaterThan(5);
        expect(calls.announce).toBeGreaterThan(5);
      }
      await sources.stop();
    });
  }
});
