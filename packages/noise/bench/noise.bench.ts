/**
 * @peerkit/noise benchmarks, every rate next to a reference measured in the same run:
 *
 * - handshakes per second: the Noise XX core alone (HandshakeState, three messages), and the
 *   full secure handshake (identity payloads, Ed25519 sign + verify, framing) over an
 *   in-memory stream pair;
 * - throughput: node:crypto ChaCha20-Poly1305 on 65,519-byte messages (seal only, and
 *   seal + open, the work a secure stream does when both ends share one process), plain
 *   loopback TCP through `nodeNetwork()`, the secure stream over an in-memory pair and over
 *   that same TCP, and both again with the receiver in a worker thread.
 *
 * The machine is shared with other jobs, so wall-clock rates swing with their load. Every
 * transfer is therefore also measured in CPU time (process.cpuUsage: user + system, all
 * threads): bytes per CPU-second is what this code costs, whatever else runs.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { type Clock, nodeNetwork, type Stream } from '@peerkit/transport';
import { fmt, rate, rateAsync, report } from '../../../scripts/bench-kit';
import {
  generateIdentity,
  generateKeyPair,
  HandshakeState,
  MAX_PLAINTEXT,
  secureInbound,
  secureOutbound,
} from '../src/index';
import { ManualClock, memoryStreamPair } from '../src/testing';

const MB = 1024 * 1024;
const TRANSFER = 128 * MB;
const WRITE_SIZE = MB;
const ROUNDS = 5;
const HOST = '127.0.0.1';

/** A measured transfer: MB/s of wall-clock time and MB per CPU-second. */
interface Rate {
  wall: number;
  cpu: number;
}

async function measure(bytes: number, work: () => unknown): Promise<Rate> {
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await work();
  const wall = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall: bytes / MB / wall, cpu: bytes / MB / ((cpu.user + cpu.system) / 1e6) };
}

function handshakeCore(): void {
  const init = new HandshakeState({ pattern: 'XX', initiator: true, s: generateKeyPair() });
  const resp = new HandshakeState({ pattern: 'XX', initiator: false, s: generateKeyPair() });
  resp.readMessage(init.writeMessage());
  init.readMessage(resp.writeMessage());
  resp.readMessage(init.writeMessage());
}

const ia = generateIdentity();
const ib = generateIdentity();
const clock = new ManualClock();

async function handshakeSecure(): Promise<void> {
  const [ra, rb] = memoryStreamPair();
  const [a, b] = await Promise.all([
    secureOutbound(ra, { identity: ia, clock }),
    secureInbound(rb, { identity: ib, clock }),
  ]);
  a.destroy();
  b.destroy();
}

/** node:crypto ChaCha20-Poly1305 over `TRANSFER` bytes in `MAX_PLAINTEXT`-byte messages. */
function rawCipher(open: boolean): Promise<Rate> {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  const plaintext = randomBytes(MAX_PLAINTEXT);
  const messages = Math.ceil(TRANSFER / MAX_PLAINTEXT);
  return measure(messages * MAX_PLAINTEXT, () => {
    for (let i = 0; i < messages; i++) {
      nonce.writeBigUInt64LE(BigInt(i), 4);
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      const ct = c.update(plaintext);
      c.final();
      const tag = c.getAuthTag();
      if (open) {
        const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
        d.setAuthTag(tag);
        d.update(ct);
        d.final();
      }
    }
  });
}

/** Sends `TRANSFER` bytes from `a` to `b` in `WRITE_SIZE` writes. */
function transfer(a: Stream, b: AsyncIterable<Uint8Array>): Promise<Rate> {
  const chunk = randomBytes(WRITE_SIZE);
  return measure(TRANSFER, async () => {
    const reading = (async () => {
      let n = 0;
      for await (const c of b) n += c.length;
      return n;
    })();
    for (let sent = 0; sent < TRANSFER; sent += WRITE_SIZE) await a.write(chunk);
    await a.end();
    const received = await reading;
    if (received !== TRANSFER) throw new Error(`received ${received} of ${TRANSFER} bytes`);
  });
}

const network = nodeNetwork();

async function tcpPair(): Promise<{ a: Stream; b: Stream; close: () => Promise<void> }> {
  let accept!: (s: Stream) => void;
  const accepted = new Promise<Stream>((resolve) => {
    accept = resolve;
  });
  const listener = await network.listen({ host: HOST }, (s) => accept(s));
  const a = await network.dial(listener.localAddress);
  const b = await accepted;
  return { a, b, close: () => listener.close() };
}

async function secured(a: Stream, b: Stream, c: Clock) {
  return Promise.all([
    secureOutbound(a, { identity: ia, clock: c }),
    secureInbound(b, { identity: ib, clock: c }),
  ]);
}

async function plainTcp(): Promise<Rate> {
  const { a, b, close } = await tcpPair();
  const r = await transfer(a, b);
  await b.end();
  await close();
  return r;
}

async function secureTcp(): Promise<Rate> {
  const { a, b, close } = await tcpPair();
  const [sa, sb] = await secured(a, b, network.clock);
  const r = await transfer(sa, sb);
  await sb.end();
  await close();
  return r;
}

async function secureMemory(): Promise<Rate> {
  const [a, b] = memoryStreamPair();
  const [sa, sb] = await secured(a, b, clock);
  const r = await transfer(sa, sb);
  await sb.end();
  return r;
}

/**
 * Two peers on two threads, as two machines would be: the receiver (bench/receiver-worker.ts)
 * runs in a worker thread, so sealing and opening can proceed in parallel.
 */
async function twoThreads(secure: boolean): Promise<Rate> {
  const worker = new Worker(new URL('./receiver-worker.mjs', import.meta.url), {
    workerData: { secure, secretKey: ib.secretKey },
    // The worker resolves workspace packages to their sources, like bench.mjs does here.
    execArgv: ['--conditions=@peerkit/source'],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('message', (m: { port: number }) => resolve(m.port));
    });
    const done = new Promise<number>((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (m: { type: string; bytes: number }) => {
        if (m.type === 'done') resolve(m.bytes);
      });
    });
    const raw = await network.dial({ host: HOST, port });
    const stream: Stream = secure
      ? await secureOutbound(raw, { identity: ia, clock: network.clock })
      : raw;
    const chunk = randomBytes(WRITE_SIZE);
    const r = await measure(TRANSFER, async () => {
      for (let sent = 0; sent < TRANSFER; sent += WRITE_SIZE) await stream.write(chunk);
      await stream.end();
      const received = await done;
      if (received !== TRANSFER) throw new Error(`received ${received} of ${TRANSFER} bytes`);
    });
    for await (const _ of stream) {
      // the receiver's end
    }
    return r;
  } finally {
    await worker.terminate();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const variants: Record<string, () => Promise<Rate>> = {
  seal: () => rawCipher(false),
  sealOpen: () => rawCipher(true),
  memory: secureMemory,
  tcp: plainTcp,
  secure: secureTcp,
  tcp2: () => twoThreads(false),
  secure2: () => twoThreads(true),
};
const samples: Record<string, Rate[]> = {};
const handshakes = { core: [] as number[], full: [] as number[] };

// One unrecorded warm-up round, so that every code path is compiled before it is measured;
// then interleaved rounds, so that every variant sees the same drift of the machine's load.
for (const run of Object.values(variants)) await run();
for (let round = 0; round < ROUNDS; round++) {
  handshakes.core.push(rate(handshakeCore, 400));
  handshakes.full.push(await rateAsync(handshakeSecure, 400));
  for (const [name, run] of Object.entries(variants)) {
    samples[name] ??= [];
    samples[name].push(await run());
  }
}
const wall = (k: string) => median((samples[k] ?? []).map((r) => r.wall));
const cpu = (k: string) => median((samples[k] ?? []).map((r) => r.cpu));
const ceilingCpu = 1 / (1 / cpu('sealOpen') + 1 / cpu('tcp'));
const ceilingWall = 1 / (1 / wall('sealOpen') + 1 / wall('tcp'));

report({
  package: '@peerkit/noise',
  name: 'handshake',
  title: 'Noise XX handshakes per second (both sides in one process)',
  columns: ['what', 'handshakes/s'],
  rows: [
    [
      'HandshakeState XX core (3 messages, 2 static + 2 ephemeral keys)',
      Math.round(median(handshakes.core)),
    ],
    [
      'secureOutbound + secureInbound (identity payloads, framing, memory stream)',
      Math.round(median(handshakes.full)),
    ],
  ],
  notes: [`Median of ${ROUNDS} interleaved rounds (wall clock).`],
});

const row = (what: string, k: string, refCpu: number, refWall: number) => [
  what,
  cpu(k),
  cpu(k) / refCpu,
  wall(k),
  wall(k) / refWall,
];

report({
  package: '@peerkit/noise',
  name: 'throughput',
  title: `Secure stream throughput: ${TRANSFER / MB} MB in ${WRITE_SIZE / MB} MB writes`,
  columns: ['what', 'MB per CPU-s', 'vs seal + open', 'MB/s (wall)', 'vs seal + open (wall)'],
  rows: [
    row(
      'node:crypto ChaCha20-Poly1305 seal only (65,519-byte messages)',
      'seal',
      cpu('sealOpen'),
      wall('sealOpen'),
    ),
    row(
      'node:crypto ChaCha20-Poly1305 seal + open (reference)',
      'sealOpen',
      cpu('sealOpen'),
      wall('sealOpen'),
    ),
    row('secure stream over an in-memory stream pair', 'memory', cpu('sealOpen'), wall('sealOpen')),
    row('plain TCP, nodeNetwork() loopback, one thread', 'tcp', cpu('sealOpen'), wall('sealOpen')),
    [
      'ceiling for secure TCP in one thread: 1 / (1/seal+open + 1/TCP)',
      ceilingCpu,
      ceilingCpu / cpu('sealOpen'),
      ceilingWall,
      ceilingWall / wall('sealOpen'),
    ],
    row(
      'secure stream over nodeNetwork() loopback TCP, one thread',
      'secure',
      cpu('sealOpen'),
      wall('sealOpen'),
    ),
    row('plain TCP, receiver in a worker thread', 'tcp2', cpu('sealOpen'), wall('sealOpen')),
    row('secure stream, receiver in a worker thread', 'secure2', cpu('sealOpen'), wall('sealOpen')),
  ],
  notes: [
    `Median of ${ROUNDS} interleaved rounds after a warm-up. Secure stream over TCP in one thread: ${fmt((100 * cpu('secure')) / ceilingCpu)}% of the CPU-time ceiling (crypto + TCP), ${fmt((100 * cpu('memory')) / cpu('sealOpen'))}% of raw seal + open without sockets.`,
  ],
});
