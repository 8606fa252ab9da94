/**
 * Messages as the application sees them, and message ids (pubsub/README.md, "Message
 * Identification"). The id function is an option; the default is the author's peer id followed
 * by the sequence number as a uint64 big-endian (40 bytes), and, for unsigned (`strict-no-sign`)
 * topics, the SHA-256 of the topic and data.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { WireMessage } from './wire';

/** A message as delivered to the application (the wire `msgs` entry). */
export type GossipMessage = WireMessage;

/** Computes a message's id; must be deterministic and give at most `maxMessageIdLength` bytes. */
export type MessageIdFn = (message: GossipMessage) => Uint8Array;

/** author (32 bytes) || seqno (uint64 BE); content-addressed when the message is anonymous. */
export const defaultMessageId: MessageIdFn = (message) => {
  if (message.from === undefined || message.seqno === undefined) return contentMessageId(message);
  const id = Buffer.allocUnsafe(40);
  id.set(message.from, 0);
  id.writeBigUInt64BE(BigInt(message.seqno), 32);
  return new Uint8Array(id.buffer, id.byteOffset, 40);
};

/** SHA-256(topic length (uint32 BE) || topic (UTF-8) || data). */
export const contentMessageId: MessageIdFn = (message) => {
  const topic = Buffer.from(message.topic, 'utf8');
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(topic.length, 0);
  return new Uint8Array(
    createHash('sha256').update(len).update(topic).update(message.data).digest(),
  );
};
