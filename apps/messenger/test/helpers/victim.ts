/**
 * A messenger node in a child process, for the attack tests that measure memory: the test reads
 * the child's RSS and heap, not its own. The node is in room `lobby` with a full history of
 * large messages (200 messages of 4,000 three-byte characters, from 10 authors).
 *
 * Protocol: one JSON line on stdout once started (`{ address, rss, heapUsed }`); then each
 * stdin line `measure` gets one JSON line `{ rss, heapUsed, held }` after a forced GC.
 * Run with `node --expose-gc --conditions=@peerkit/source --import tsx victim.ts [limits JSON]`.
 */
import { generateIdentity } from '@peerkit/noise';
import { nodeNetwork } from '@peerkit/transport';
import type { RoomMessage } from '../../src/envelope';
import { EnvelopeCodec } from '../../src/envelope';
import { MessengerNode } from '../../src/node';

const limits = JSON.parse(process.argv[2] ?? '{}') as Record<string, number>;
const gc = (globalThis as { gc?: () => void }).gc;

function measure(extra: Record<string, unknown> = {}): string {
  gc?.();
  const m = process.memoryUsage();
  return JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, ...extra });
}

const node = await MessengerNode.start({
  network: nodeNetwork(),
  identity: generateIdentity(),
  host: '127.0.0.1',
  bootstrap: [],
  limits,
});
await node.join('lobby');
const codec = new EnvelopeCodec();
const authors = Array.from({ length: 10 }, () => generateIdentity());
const now = Date.now();
const messages: RoomMessage[] = [];
for (let i = 0; i < 200; i++) {
  messages.push(
    codec.signRoom(authors[i % 10]!, {
      room: 'lobby',
      ts: now - 200_000 + i * 1000,
      seq: i + 1,
      text: '€'.repeat(4000),
    }),
  );
}
node.importHistory('lobby', messages);
const held = () => (node as unknown as { inbound: { size: number } }).inbound.size;
console.log(measure({ address: node.address, stored: node.recentMessages('lobby').length }));
process.stdin.setEncoding('utf8');
let buffer = '';
process.stdin.on('data', (chunk: string) => {
  buffer += chunk;
  let nl = buffer.indexOf('\n');
  while (nl >= 0) {
    const line = buffer.slice(0, nl).trim();
    buffer = buffer.slice(nl + 1);
    if (line === 'measure') console.log(measure({ held: held() }));
    nl = buffer.indexOf('\n');
  }
});
process.stdin.on('end', () => {
  void node.close().then(() => process.exit(0));
});
