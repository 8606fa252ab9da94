/**
 * What a node knows about other peers, by hex public key: the listen address we dialled them at
 * (for DMs without a DHT lookup) and the nickname from their last signed message; it turns
 * gossip's peer events into `peer-joined` / `peer-left`. Bounded maps.
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

  /** gossip's `connect` peer event (hex key) as a chat event. */
  joined(key: string): ChatEvent {
    const address = this.addresses.get(key);
    return {
      type: 'peer-joined',
      peer: peerIdOfKey(key),
      ...(address ? { address: formatAddress(address) } : {}),
    };
  }

  /** gossip's `disconnect` peer event (hex key) as a chat event. */
  left(key: string): ChatEvent {
    return { type: 'peer-left', peer: peerIdOfKey(key) };
  }
}
