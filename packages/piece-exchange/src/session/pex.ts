/**
 * BEP 11 peer exchange, sending side: at most one `ut_pex` message a minute per peer, listing
 * the peers connected since the last message (`added`, at most 50) and those gone (`dropped`).
 * The receiving side is `Torrent.onPex`, which treats the addresses as candidates to dial.
 */
import type { Address } from '@peerkit/transport';
import { formatAddress } from '@peerkit/transport';
import { hostFamily } from '../wire/compact';
import { UT_PEX } from '../wire/extension';
import { encodePexMessage, type PexPeer } from '../wire/pex';
import type { PeerSession } from './peer-session';

/** BEP 11: "no more than once a minute". */
export const PEX_INTERVAL_MS = 60_000;
/** BEP 11: at most 50 added peers per message. */
export const PEX_MAX_ADDED = 50;

interface Sent {
  at: number;
  peers: Map<string, Address>;
}

export class PexState {
  private readonly sent = new Map<number, Sent>();

  forget(peer: number): void {
    this.sent.delete(peer);
  }

  /** Sends `ut_pex` to every peer whose minute is up. */
  tick(now: number, peers: readonly PeerSession[]): void {
    const current = new Map<string, Address>();
    for (const p of peers) {
      if (p.isOpen) current.set(formatAddress(p.listenAddress), p.listenAddress);
    }
    for (const p of peers) {
      if (!p.isOpen || !p.supports(UT_PEX)) continue;
      const last = this.sent.get(p.id);
      if (last !== undefined && now - last.at < PEX_INTERVAL_MS) continue;
      const previous = last?.peers ?? new Map<string, Address>();
      const self = formatAddress(p.listenAddress);
      const added: PexPeer[] = [];
      const added6: PexPeer[] = [];
      const dropped: Address[] = [];
      const dropped6: Address[] = [];
      const sentNow = new Map<string, Address>();
      for (const [key, a] of current) {
        if (key === self) continue;
        if (previous.has(key)) {
          sentNow.set(key, a);
          continue;
        }
        const list = hostFamily(a.host) === 'IPv6' ? added6 : added;
        if (added.length + added6.length >= PEX_MAX_ADDED) continue;
        list.push({ host: a.host, port: a.port, flags: 0 });
        sentNow.set(key, a);
      }
      for (const [key, a] of previous) {
        if (!current.has(key)) (hostFamily(a.host) === 'IPv6' ? dropped6 : dropped).push(a);
      }
      this.sent.set(p.id, { at: now, peers: sentNow });
      if (added.length + added6.length + dropped.length + dropped6.length === 0) continue;
      p.sendExtended(UT_PEX, encodePexMessage({ added, added6, dropped, dropped6 }));
    }
  }
}
