/**
 * Envelopes: the signed units of the messenger (README, "Envelope formats").
 *
 * A room message and a direct message are msgpack maps declared with @peerkit/framing's codec.
 * Each carries an Ed25519 signature by its author over a domain-separated binary encoding of
 * every other field (never over msgpack, whose encoding is not unique):
 *
 *   room:  "peerkit-chat/room/v1" 0x00 || author (32) || ts (u64 BE) || seq (u64 BE)
 *          || str(room) || opt(nick) || str(text)
 *   dm:    "peerkit-chat/dm/v1" 0x00 || from (32) || to (32) || id (16) || ts (u64 BE)
 *          || opt(nick) || str(text)
 *
 *   str(s) = length of UTF-8 (u32 BE) || UTF-8 bytes;  opt(s) = 0x00 | 0x01 || str(s)
 *
 * The domains keep a room signature from ever verifying as a DM (and vice versa) or as a
 * signature of any other peerkit protocol (noise and gossip use other domains); the length
 * prefixes make the encoding injective.
 */
import { Buffer } from 'node:buffer';
import { type Codec, defineCodec, type Infer, isMessageError, t } from '@peerkit/framing';
import { type Identity, signWithIdentity, verifyIdentitySignature } from '@peerkit/noise';
import { ChatError } from './errors';
import { type ChatLimits, DEFAULT_LIMITS, maxEnvelopeSize } from './limits';

const ROOM_DOMAIN = Buffer.from('peerkit-chat/room/v1\0', 'utf8');
const DM_DOMAIN = Buffer.from('peerkit-chat/dm/v1\0', 'utf8');
export const ENVELOPE_VERSION = 1 as const;
export const DM_ID_LENGTH = 16;

function schemas(l: ChatLimits) {
  const key = t.bytes({ length: 32 });
  const nick = t.optional(t.string({ minLength: 1, maxLength: l.maxNickLength }));
  const text = t.string({ minLength: 1, maxLength: l.maxTextLength });
  const room = t.object({
    v: t.literal(ENVELOPE_VERSION),
    room: t.string({ minLength: 1, maxLength: l.maxRoomLength }),
    author: key,
    ts: t.uint(),
    seq: t.uint({ min: 1 }),
    nick,
    text,
    sig: t.bytes({ length: 64 }),
  });
  const dm = t.object({
    v: t.literal(ENVELOPE_VERSION),
    from: key,
    to: key,
    id: t.bytes({ length: DM_ID_LENGTH }),
    ts: t.uint(),
    nick,
    text,
    sig: t.bytes({ length: 64 }),
  });
  return { room, dm };
}

type Schemas = ReturnType<typeof schemas>;
/** A signed room message. */
export type RoomMessage = Infer<Schemas['room']>;
/** A signed direct message. */
export type DirectMessage = Infer<Schemas['dm']>;
export type UnsignedRoomMessage = Omit<RoomMessage, 'sig' | 'v' | 'author'>;
export type UnsignedDirectMessage = Omit<DirectMessage, 'sig' | 'v' | 'from'>;

function str(parts: Buffer[], s: string): void {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(bytes.length, 0);
  parts.push(len, bytes);
}

function opt(parts: Buffer[], s: string | undefined): void {
  if (s === undefined) parts.push(Buffer.of(0));
  else {
    parts.push(Buffer.of(1));
    str(parts, s);
  }
}

function u64(value: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(BigInt(value), 0);
  return b;
}

/** The exact bytes a room message signature covers (module comment). */
export function roomSignedBytes(m: Omit<RoomMessage, 'sig' | 'v'>): Uint8Array {
  const parts: Buffer[] = [ROOM_DOMAIN, Buffer.from(m.author), u64(m.ts), u64(m.seq)];
  str(parts, m.room);
  opt(parts, m.nick);
  str(parts, m.text);
  return Buffer.concat(parts);
}

/** The exact bytes a direct message signature covers (module comment). */
export function dmSignedBytes(m: Omit<DirectMessage, 'sig' | 'v'>): Uint8Array {
  const parts: Buffer[] = [
    DM_DOMAIN,
    Buffer.from(m.from),
    Buffer.from(m.to),
    Buffer.from(m.id),
    u64(m.ts),
  ];
  opt(parts, m.nick);
  str(parts, m.text);
  return Buffer.concat(parts);
}

/**
 * Encodes, decodes, signs and verifies envelopes under a set of limits. Decoding is total:
 * any bytes give an envelope or `ChatError` `MALFORMED`.
 */
export class EnvelopeCodec {
  readonly limits: ChatLimits;
  readonly roomCodec: Codec<RoomMessage>;
  readonly dmCodec: Codec<DirectMessage>;

  constructor(limits: Partial<ChatLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const s = schemas(this.limits);
    const maxMessageSize = maxEnvelopeSize(this.limits);
    this.roomCodec = defineCodec(s.room, { maxMessageSize });
    this.dmCodec = defineCodec(s.dm, { maxMessageSize });
  }

  signRoom(identity: Identity, m: UnsignedRoomMessage): RoomMessage {
    const unsigned = { v: ENVELOPE_VERSION, ...m, author: identity.publicKey };
    const message: RoomMessage = {
      ...unsigned,
      sig: signWithIdentity(identity, roomSignedBytes(unsigned)),
    };
    this.checkShape(this.roomCodec.is(message), 'room message');
    return message;
  }

  signDm(identity: Identity, m: UnsignedDirectMessage): DirectMessage {
    const unsigned = { v: ENVELOPE_VERSION, ...m, from: identity.publicKey };
    const message: DirectMessage = {
      ...unsigned,
      sig: signWithIdentity(identity, dmSignedBytes(unsigned)),
    };
    this.checkShape(this.dmCodec.is(message), 'direct message');
    return message;
  }

  encodeRoom(m: RoomMessage): Uint8Array {
    return this.roomCodec.encode(m);
  }

  encodeDm(m: DirectMessage): Uint8Array {
    return this.dmCodec.encode(m);
  }

  /** Decodes a room message (signature not yet checked); throws `ChatError` `MALFORMED`. */
  decodeRoom(bytes: Uint8Array): RoomMessage {
    return decodeWith(() => this.roomCodec.decode(bytes));
  }

  /** Decodes a direct message (signature not yet checked); throws `ChatError` `MALFORMED`. */
  decodeDm(bytes: Uint8Array): DirectMessage {
    return decodeWith(() => this.dmCodec.decode(bytes));
  }

  private checkShape(ok: boolean, what: string): void {
    if (!ok) {
      throw new ChatError(
        'BAD_INPUT',
        `${what} outside the limits (text 1-${this.limits.maxTextLength} characters, room 1-${this.limits.maxRoomLength}, nick 1-${this.limits.maxNickLength})`,
      );
    }
  }
}

function decodeWith<T>(decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (isMessageError(error)) {
      throw new ChatError('MALFORMED', `bad envelope: ${error.code} at '${error.path}'`, {
        cause: error,
      });
    }
    throw new ChatError('MALFORMED', 'bad envelope', { cause: error });
  }
}

/** Whether the room message's signature verifies for its author. */
export function verifyRoomMessage(m: RoomMessage): boolean {
  return verifyIdentitySignature(m.author, roomSignedBytes(m), m.sig);
}

/** Whether the direct message's signature verifies for its sender. */
export function verifyDirectMessage(m: DirectMessage): boolean {
  return verifyIdentitySignature(m.from, dmSignedBytes(m), m.sig);
}
