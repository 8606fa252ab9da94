/**
 * What a messenger node reports to its user interface: plain, JSON-serialisable objects (the
 * CLI's `--json` mode prints each as one line).
 */
import { Emitter } from '@peerkit/transport';
import type { DirectMessage, RoomMessage } from './envelope';
import type { ChatErrorCode } from './errors';
import { formatPeerId } from './peer-id';
import { hex } from './rendezvous';

export interface MessageView {
  room: string;
  /** Author's peer id. */
  from: string;
  nick?: string;
  /** Author's timestamp, ms since the Unix epoch. */
  ts: number;
  seq: number;
  text: string;
}

export interface DmView {
  /** Message id, hex. */
  id: string;
  from: string;
  to: string;
  nick?: string;
  ts: number;
  text: string;
}

export type ChatEvent =
  | { type: 'ready'; id: string; address: string; dhtAddress: string }
  | { type: 'joined'; room: string }
  /** A DHT lookup of the room's members finished: `found` addresses known, `dialed` new. */
  | { type: 'rendezvous'; room: string; found: number; dialed: number }
  | ({ type: 'message'; own: boolean } & MessageView)
  | { type: 'history'; room: string; source: string; messages: MessageView[] }
  | {
      type: 'rejected';
      room?: string;
      reason: ChatErrorCode;
      /** The peer that sent it to us (who gets the score penalty). */
      peer: string;
      /** The author the message claims. */
      author?: string;
      detail: string;
      /** The sending peer's gossip score after the rejection (if known). */
      score?: number;
    }
  | { type: 'peer-joined'; peer: string; address?: string }
  | { type: 'peer-left'; peer: string }
  | ({ type: 'dm' } & DmView)
  | { type: 'dm-delivered'; id: string; to: string }
  | { type: 'dm-pending'; id: string; to: string; reason: string; retryInMs: number }
  | { type: 'warning'; message: string };

export function messageView(m: RoomMessage): MessageView {
  const v: MessageView = {
    room: m.room,
    from: formatPeerId(m.author),
    ts: m.ts,
    seq: m.seq,
    text: m.text,
  };
  if (m.nick !== undefined) v.nick = m.nick;
  return v;
}

export function dmView(m: DirectMessage): DmView {
  const v: DmView = {
    id: hex(m.id),
    from: formatPeerId(m.from),
    to: formatPeerId(m.to),
    ts: m.ts,
    text: m.text,
  };
  if (m.nick !== undefined) v.nick = m.nick;
  return v;
}

/** One kind of `ChatEvent`, by its `type`. */
export type ChatEventOf<T extends ChatEvent['type']> = Extract<ChatEvent, { type: T }>;

/**
 * The node's events (peerkit's `Emitter` convention): each `ChatEvent` is emitted under its
 * `type`, and every one of them also under `event` (for logs and the CLI's `--json` lines).
 */
export type ChatEvents = { [T in ChatEvent['type']]: ChatEventOf<T> } & { event: ChatEvent };

/** The emitter a messenger node and its parts report through. */
export class ChatEventChannel extends Emitter<ChatEvents> {
  /** Emits `event` under its type, then under `event`. Never throws. */
  report(event: ChatEvent): void {
    this.emit(event.type, event as never);
    this.emit('event', event);
  }
}
