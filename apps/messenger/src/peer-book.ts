/**
 * What a node knows about other peers, by hex public key: the listen address we dialled them at
 * (for DMs without a DHT lookup), the nickname from their last signed message, and which peers
 * were connected at the last poll (to report `peer-joined` / `peer-left`). Bounded maps.
 */
import { type Address, formatAddress } from '@peerkit/transport';
import type { ChatEvent } from './events';
import { formatPeerId } from './peer-id';
import { hex } from './rendezvous';

const MAX_ENTRIES = 10_000;

export interface PeerView {
  id: string;
  nick?: string;
  score: number;
  address?: string;
  rooms: string[];
}

export function peerIdOfKey(key: string): string {
  return formatPeerId(Buffer.from(key, 'hex'));
}

export class PeerBook {
  private readonly nicks = new Map<string, string>();
  private readonly addresses = new Map<string, Address>();
  private connected = new Set<string>();

  learnNick(publicKey: Uint8Array, nick: string | undefined): void {
    if (nick === undefined) return;
    if (this.nicks.size >= MAX_ENTRIES) this.nicks.clear();
    this.nicks.set(hex(publicKey), nick);
  }

  learnAddress(publicKey: Uint8Array, address: Address): void {
    if (this.addresses.size >= MAX_ENTRIES) this.addresses.clear();
    this.addresses.set(hex(publicKey), address);
  }

  address(publicKey: Uint8Array): Address | undefined {
    return this.addresses.get(hex(publicKey));
  }

  /** Nicknames seen in signed messages, by peer id. */
  nicknames(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of this.nicks) out.set(peerIdOfKey(k), v);
    return out;
  }

  /** The view of a connected peer (hex key), for `/peers`. */
  view(key: string, score: number, rooms: string[]): PeerView {
    const nick = this.nicks.get(key);
    const address = this.addresses.get(key);
    return {
      id: peerIdOfKey(key),
      score,
      rooms,
      ...(nick !== undefined ? { nick } : {}),
      ...(address ? { address: formatAddress(address) } : {}),
    };
  }

  /** Compares with the last poll; returns the join / leave events. */
  poll(connectedNow: readonly string[]): ChatEvent[] {
    const now = new Set(connectedNow);
    const events: ChatEvent[] = [];
    for (const p of now) {
      if (this.connected.has(p)) continue;
      const address = this.addresses.get(p);
      events.push({
        type: 'peer-joined',
        peer: peerIdOfKey(p),
        ...(address ? { address: formatAddress(address) } : {}),
      });
    }
    for (const p of this.connected) {
      if (!now.has(p)) events.push({ type: 'peer-left', peer: peerIdOfKey(p) });
    }
    this.connected = now;
    return events;
  }
}
