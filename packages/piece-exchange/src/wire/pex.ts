/**
 * BEP 11 peer exchange (`ut_pex`): a bencoded dictionary of compact contacts that connected
 * (`added`, `added6`, with one flag byte each in `added.f`/`added6.f`) and disconnected
 * (`dropped`, `dropped6`) since the last message.
 */
import { type BencodeInputDict, encode } from '@peerkit/bencode';
import type { Address } from '@peerkit/transport';
import { WireError } from '../errors';
import { decodeCompactPeers, encodeCompactPeers } from './compact';
import { decodeExtensionDict } from './extension';

/** BEP 11 flag bits of an added peer. */
export const PexFlags = {
  /** Prefers encryption (`e` in its extension handshake). */
  encryption: 0x01,
  /** Seed / upload only. */
  seed: 0x02,
  /** Supports uTP. */
  utp: 0x04,
  /** Supports `ut_holepunch`. */
  holepunch: 0x08,
  /** Outgoing connection: the peer is reachable. */
  reachable: 0x10,
} as const;

export interface PexPeer extends Address {
  /** BEP 11 flag bits (`PexFlags`), 0 when the message had none. */
  flags: number;
}

export interface PexMessage {
  added: PexPeer[];
  added6: PexPeer[];
  dropped: Address[];
  dropped6: Address[];
}

export interface PexDecodeOptions {
  /** Largest number of contacts accepted in one message, all lists together (default 500). */
  maxPeers?: number;
}

function invalid(message: string, cause?: unknown): WireError {
  return new WireError('INVALID_PEX_MESSAGE', message, { cause });
}

/** Encodes a ut_pex payload; empty lists are left out. */
export function encodePexMessage(message: PexMessage): Uint8Array {
  const dict: Record<string, Uint8Array> = {};
  if (message.added.length > 0) {
    dict.added = encodeCompactPeers(message.added, 'IPv4');
    dict['added.f'] = Uint8Array.from(message.added, (p) => p.flags & 0xff);
  }
  if (message.added6.length > 0) {
    dict.added6 = encodeCompactPeers(message.added6, 'IPv6');
    dict['added6.f'] = Uint8Array.from(message.added6, (p) => p.flags & 0xff);
  }
  if (message.dropped.length > 0) dict.dropped = encodeCompactPeers(message.dropped, 'IPv4');
  if (message.dropped6.length > 0) dict.dropped6 = encodeCompactPeers(message.dropped6, 'IPv6');
  return encode(dict satisfies BencodeInputDict);
}

function contacts(
  value: unknown,
  family: 'IPv4' | 'IPv6',
  key: string,
): { host: string; port: number }[] {
  if (value === undefined) return [];
  if (!(value instanceof Uint8Array)) throw invalid(`ut_pex ${key} is not a byte string`);
  const peers = decodeCompactPeers(value, family);
  if (peers === undefined)
    throw invalid(
      `ut_pex ${key} length ${value.length} is not a multiple of ${family === 'IPv4' ? 6 : 18}`,
    );
  return peers;
}

function withFlags(peers: Address[], flags: unknown): PexPeer[] {
  // A flags string of the wrong length is ignored (as libtorrent does), not fatal.
  const usable = flags instanceof Uint8Array && flags.length === peers.length ? flags : undefined;
  return peers.map((peer, i) => ({ host: peer.host, port: peer.port, flags: usable?.[i] ?? 0 }));
}

/** Decodes a ut_pex payload. Unknown keys are ignored. */
export function decodePexMessage(payload: Uint8Array, options: PexDecodeOptions = {}): PexMessage {
  const dict = decodeExtensionDict(payload, 'ut_pex message');
  const added = contacts(dict.added, 'IPv4', 'added');
  const added6 = contacts(dict.added6, 'IPv6', 'added6');
  const dropped = contacts(dict.dropped, 'IPv4', 'dropped');
  const dropped6 = contacts(dict.dropped6, 'IPv6', 'dropped6');
  const max = options.maxPeers ?? 500;
  const total = added.length + added6.length + dropped.length + dropped6.length;
  if (total > max) throw invalid(`ut_pex message with ${total} contacts exceeds ${max}`);
  return {
    added: withFlags(added, dict['added.f']),
    added6: withFlags(added6, dict['added6.f']),
    dropped,
    dropped6,
  };
}
