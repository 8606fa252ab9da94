/**
 * Peer ids and message ids. A peer id is the peer's 32-byte Ed25519 public key. Inside the node
 * both are used as `Map` keys in a compact string form: `PeerKey` is the id in hex (readable in
 * logs and errors), `MsgKey` the message id as a latin1 string (one char per byte, no hex cost
 * on the hot path).
 */
import { Buffer } from 'node:buffer';
import { toHex } from '@peerkit/transport';

export type PeerKey = string;
export type MsgKey = string;

export const PEER_ID_LENGTH = 32;

export function peerKey(id: Uint8Array): PeerKey {
  return toHex(id);
}

export function peerIdOf(key: PeerKey): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'hex'));
}

export function msgKey(id: Uint8Array): MsgKey {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('latin1');
}

export function msgIdOf(key: MsgKey): Uint8Array {
  return new Uint8Array(Buffer.from(key, 'latin1'));
}
