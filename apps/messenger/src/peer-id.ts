/**
 * Peer ids: the short, copyable text form of a 32-byte Ed25519 public key.
 *
 *   peer id = base32(publicKey (32 bytes) || checksum (2 bytes))     55 characters
 *   checksum = SHA-256("peerkit-chat-id" || publicKey)[0..2]
 *
 * base32 is RFC 4648's alphabet in lowercase without padding, so an id is one word that a
 * double-click selects and that survives case changes. The checksum catches typos (a mistyped
 * id fails with `BAD_PEER_ID` instead of addressing a stranger).
 */
import { createHash } from 'node:crypto';
import { ChatError } from './errors';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const KEY_LENGTH = 32;
const CHECKSUM_LENGTH = 2;
/** Length of a peer id in characters. */
export const PEER_ID_LENGTH = Math.ceil(((KEY_LENGTH + CHECKSUM_LENGTH) * 8) / 5);
/** Characters shown for a peer in chat lines (`/peers` shows the full id). */
export const SHORT_ID_LENGTH = 8;

const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) {
  DECODE[ALPHABET.charCodeAt(i)] = i;
  DECODE[ALPHABET.toUpperCase().charCodeAt(i)] = i;
}

function checksum(publicKey: Uint8Array): Uint8Array {
  const h = createHash('sha256').update('peerkit-chat-id').update(publicKey).digest();
  return new Uint8Array(h.subarray(0, CHECKSUM_LENGTH));
}

/** RFC 4648 section 6 base32, lowercase, no padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Inverse of `base32Encode`; undefined for foreign characters or non-zero padding bits. */
export function base32Decode(text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? (DECODE[c] as number) : -1;
    if (v < 0) return undefined;
    buffer = ((buffer << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[o++] = (buffer >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  // Canonical form only: the leftover bits must be zero, so each byte string has one encoding.
  if ((buffer & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** The peer id of a 32-byte public key. */
export function formatPeerId(publicKey: Uint8Array): string {
  if (publicKey.length !== KEY_LENGTH) {
    throw new ChatError('BAD_PEER_ID', `a public key is ${KEY_LENGTH} bytes`);
  }
  const raw = new Uint8Array(KEY_LENGTH + CHECKSUM_LENGTH);
  raw.set(publicKey, 0);
  raw.set(checksum(publicKey), KEY_LENGTH);
  return base32Encode(raw);
}

/** The public key of a peer id; throws `ChatError` `BAD_PEER_ID` with the reason. */
export function parsePeerId(text: string): Uint8Array {
  const id = text.trim();
  if (id.length !== PEER_ID_LENGTH) {
    throw new ChatError(
      'BAD_PEER_ID',
      `a peer id is ${PEER_ID_LENGTH} characters (a-z, 2-7), got ${id.length}`,
    );
  }
  const raw = base32Decode(id);
  if (raw === undefined || raw.length !== KEY_LENGTH + CHECKSUM_LENGTH) {
    throw new ChatError('BAD_PEER_ID', 'a peer id uses only the characters a-z and 2-7');
  }
  const publicKey = raw.subarray(0, KEY_LENGTH);
  const sum = checksum(publicKey);
  if (sum[0] !== raw[KEY_LENGTH] || sum[1] !== raw[KEY_LENGTH + 1]) {
    throw new ChatError('BAD_PEER_ID', 'the peer id checksum does not match (a typo?)');
  }
  return new Uint8Array(publicKey);
}

/** Whether `text` is a well-formed peer id. */
export function isPeerId(text: string): boolean {
  try {
    parsePeerId(text);
    return true;
  } catch {
    return false;
  }
}

/** The first characters of a peer id, for chat lines. */
export function shortPeerId(publicKeyOrId: Uint8Array | string): string {
  const id = typeof publicKeyOrId === 'string' ? publicKeyOrId : formatPeerId(publicKeyOrId);
  return id.slice(0, SHORT_ID_LENGTH);
}
