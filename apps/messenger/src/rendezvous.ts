/**
 * Rendezvous keys (README, "How peers find each other"). A room's members and a peer's own
 * addresses are stored in the DHT as BEP 5 peers of 20-byte keys:
 *
 *   room key = SHA-1("peerkit-chat/room/v1" 0x00 || room name (UTF-8))
 *   peer key = SHA-1("peerkit-chat/peer/v1" 0x00 || Ed25519 public key (32 bytes))
 *
 * Members `announce_peer` their TCP port under the room key and find each other with
 * `get_peers`; every node announces its port under its own peer key so that DMs can find it.
 */
import { createHash } from 'node:crypto';
import { ChatError } from './errors';
import type { ChatLimits } from './limits';

export function roomKey(room: string): Uint8Array {
  return new Uint8Array(
    createHash('sha1').update('peerkit-chat/room/v1\0').update(room, 'utf8').digest(),
  );
}

export function peerKeyOf(publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha1').update('peerkit-chat/peer/v1\0').update(publicKey).digest(),
  );
}

/** The gossip topic of a room. */
export function roomTopic(room: string): string {
  return `peerkit-chat/room/v1/${room}`;
}

/** The room of a gossip topic, or undefined for a foreign topic. */
export function roomOfTopic(topic: string): string | undefined {
  const prefix = 'peerkit-chat/room/v1/';
  return topic.startsWith(prefix) ? topic.slice(prefix.length) : undefined;
}

/** Checks a room name: 1..maxRoomLength characters, no control characters. */
export function checkRoomName(room: string, limits: ChatLimits): string {
  if (room.length === 0 || room.length > limits.maxRoomLength) {
    throw new ChatError('BAD_INPUT', `a room name is 1-${limits.maxRoomLength} characters`);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(room)) {
    throw new ChatError('BAD_INPUT', 'a room name may not contain control characters');
  }
  return room;
}

/** Hex of a key, for maps and logs (kademlia's `toHex`, the one hex helper). */
export { toHex as hex } from '@peerkit/kademlia';
