/**
 * A runnable tour of @peerkit/framing: declare a message, send it over a stream as frames,
 * read it back validated. Run it with `pnpm example` from packages/framing.
 */
import {
  defineCodec,
  FrameDecoder,
  FrameWriter,
  type Infer,
  isMessageError,
  readFrames,
  t,
} from '@peerkit/framing';
import { memoryStreamPair } from '@peerkit/framing/testing';

// 1. Declare the messages; the TypeScript types are inferred from the schema.
const ChatMessage = t.union('type', {
  say: t.object({
    room: t.string({ minLength: 1, maxLength: 64 }),
    from: t.bytes({ length: 32 }),
    text: t.string({ maxLength: 4096 }),
    replyTo: t.optional(t.uint()),
  }),
  join: t.object({ room: t.string({ minLength: 1, maxLength: 64 }) }),
});
type ChatMessage = Infer<typeof ChatMessage>;
const codec = defineCodec(ChatMessage, { maxMessageSize: 16 * 1024 });

export async function main(log: (line: string) => void = console.log): Promise<ChatMessage[]> {
  // 2. A stream pair stands in for a TCP connection (use @peerkit/transport's `dial` for real).
  const { a, b } = memoryStreamPair({ highWaterMark: 1024 });
  const writer = new FrameWriter(a, { prefix: 'varint', maxFrameSize: 16 * 1024 });
  const sent: ChatMessage[] = [
    { type: 'join', room: 'lobby' },
    { type: 'say', room: 'lobby', from: new Uint8Array(32).fill(1), text: 'hello, peers' },
  ];
  const sending = (async () => {
    for (const message of sent) await writer.write(codec.encode(message)); // backpressured
    await writer.end();
  })();

  // 3. Read frames and decode them: each is a complete, validated ChatMessage.
  const received: ChatMessage[] = [];
  for await (const frame of readFrames(b, { prefix: 'varint', maxFrameSize: 16 * 1024 })) {
    const message = codec.decode(frame);
    if (message.type === 'say') log(`${message.room}: ${message.text}`);
    else log(`someone joined ${message.room}`);
    received.push(message);
  }
  await sending;

  // 4. Malformed input gives a typed error with a code and a path, never a half-valid object.
  try {
    codec.decode(codec.encode({ type: 'join', room: 'x' }).subarray(0, 5));
  } catch (error) {
    if (isMessageError(error)) log(`rejected: ${error.code}`);
  }
  const decoder = new FrameDecoder({ prefix: 'uint32be', maxFrameSize: 1024 });
  try {
    decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)); // announces 4 GiB
    decoder.next();
  } catch (error) {
    log(`rejected: ${(error as { code: string }).code}`);
  }
  return received;
}

if (process.argv[1]?.endsWith('chat.ts')) await main();
