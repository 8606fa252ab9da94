/** Schemas shared by the codec tests and the benchmark. */
import { t } from '../src/index';

export const Chat = t.object({
  room: t.string({ minLength: 1, maxLength: 64 }),
  author: t.bytes({ length: 32 }),
  sentAt: t.uint(),
  body: t.string({ maxLength: 4096 }),
  mood: t.optional(t.enum(['happy', 'sad'])),
  replyTo: t.optional(t.bytes({ length: 32 })),
});

export const Gossip = t.union('type', {
  publish: t.object({
    topic: t.string({ maxLength: 256 }),
    seqno: t.uint(),
    from: t.bytes({ length: 32 }),
    data: t.bytes({ maxLength: 65536 }),
  }),
  subscribe: t.object({ topics: t.array(t.string({ maxLength: 256 }), { maxLength: 64 }) }),
  ihave: t.object({
    topic: t.string({ maxLength: 256 }),
    ids: t.array(t.bytes({ length: 20 }), { minLength: 1, maxLength: 100 }),
  }),
  prune: t.object({ topic: t.string({ maxLength: 256 }), backoffMs: t.optional(t.uint()) }),
});

export const Nested = t.object({
  version: t.literal(1),
  ok: t.bool(),
  score: t.float({ min: -100, max: 100 }),
  delta: t.int({ min: -1000, max: 1000 }),
  peers: t.array(
    t.object({
      id: t.bytes({ length: 20 }),
      host: t.string({ maxLength: 45 }),
      port: t.uint({ max: 65535 }),
      tags: t.optional(t.array(t.enum(['seed', 'relay']), { maxLength: 2 })),
    }),
    { maxLength: 50 },
  ),
  meta: t.optional(t.object({ note: t.string({ maxLength: 100 }) })),
});
