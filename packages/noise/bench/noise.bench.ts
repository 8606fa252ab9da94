/**
 * @peerkit/noise benchmarks, every rate next to a reference measured in the same run:
 *
 * - handshakes per second: the Noise XX core alone (HandshakeState, three messages), and the
 *   full secure handshake (identity payloads, Ed25519 sign + verify, framing) over an
 *   in-memory stream pair;
 * - throughput: node:crypto ChaCha20-Poly1305 on 65,519-byte messages on one core (seal
 *   only, open only, and seal + open, the work a secure stream does when both ends share one
 *   thread), plain loopback TCP through `nodeNetwork()`, the secure stream over an in-memory
 *   pair and over that same TCP with both ends in one thread, and plain TCP and the secure
 *   stream again with the receiver in a worker thread (each end on its own thread, as on two
 *   machines; rate measured at the receiver, compared with the slower of seal only and open
 *   only, which bounds one direction of a channel whose ends run on two cores).
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
  /** Two-thread rows: event-loop utilization of the sending and the receiving thread. */
  busy?: { send: number; receive: number };
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

type CipherWork = 'seal' | 'open' | 'sealOpen';

/**
 * node:crypto ChaCha20-Poly1305 over `TRANSFER` bytes in `MAX_PLAINTEXT`-byte messages, on
 * this one thread: seal only, open only (of a message sealed beforehand, a fresh decipher
 * and nonce per message, like seal), or seal + open (both ends' work on one core).
 */
function rawCipher(work: CipherWork): Promise<Rate> {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  const plaintext = randomBytes(MAX_PLAINTEXT);
  const messages = Math.ceil(TRANSFER / MAX_PLAINTEXT);
  const sealed = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const sealedCt = sealed.update(plaintext);
  sealed.final();
  const sealedTag = sealed.getAuthTag();
  return measure(messages * MAX_PLAINTEXT, () => {
    for (let i = 0; i < messages; i++) {
      let ct = sealedCt;
      let tag = sealedTag;
      if (work !== 'open') {
        nonce.writeBigUInt64LE(BigInt(i), 4);
        const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
        ct = c.update(plaintext);
        c.final();
        tag = c.getAuthTag();
      } else {
        nonce.writeBigUInt64LE(0n, 4);
      }
      if (work !== 'seal') {
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
 * runs in a worker thread, so sealing and opening proceed in parallel, each on its own core.
 * `wall` is measured at the receiver: bytes over the time from its first received byte to the
 * end. `cpu` counts the CPU time of both threads (process.cpuUsage is per process).
 */
async function startReceiver(secure: boolean): Promise<Receiver> {
  const worker = new Worker(new URL('./receiver-worker.mjs', import.meta.url), {
    workerData: { secure, secretKey: ib.secretKey },
    // The worker resolves workspace packages to their sources, like bench.mjs does here.
    execArgv: ['--conditions=@peerkit/source'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: { port: number }) => resolve(m.port));
  });
  return { worker, port };
}

interface ReceiverReport {
  type: string;
  bytes: number;
  seconds: number;
  busy: number;
}

interface Receiver {
  worker: Worker;
  port: number;
}

const receivers = {
  plain: await startReceiver(false),
  secure: await startReceiver(true),
};

async function twoThreads(secure: boolean): Promise<Rate> {
  const { worker, port } = secure ? receivers.secure : receivers.plain;
  const done = new Promise<ReceiverReport>((resolve, reject) => {
    worker.once('error', reject);
    const onMessage = (m: ReceiverReport) => {
      if (m.type !== 'done') return;
      worker.off('message', onMessage);
      resolve(m);
    };
    worker.on('message', onMessage);
  });
  const raw = await network.dial({ host: HOST, port });
  const stream: Stream = secure
    ? await secureOutbound(raw, { identity: ia, clock: network.clock })
    : raw;
  const chunk = randomBytes(WRITE_SIZE);
  let atReceiver = 0;
  let busy = { send: 0, receive: 0 };
  const r = await measure(TRANSFER, async () => {
    const elu = performance.eventLoopUtilization();
    for (let sent = 0; sent < TRANSFER; sent += WRITE_SIZE) await stream.write(chunk);
    await stream.end();
    const send = performance.eventLoopUtilization(elu).utilization;
    const { bytes, seconds, busy: receive } = await done;
    if (bytes !== TRANSFER) throw new Error(`received ${bytes} of ${TRANSFER} bytes`);
    atReceiver = bytes / MB / seconds;
    busy = { send, receive };
  });
  for await (const _ of stream) {
    // the receiver's end
  }
  return { wall: atReceiver, cpu: r.cpu, busy };
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const variants: Record<string, () => Promise<Rate>> = {
  seal: () => rawCipher('seal'),
  open: () => rawCipher('open'),
  sealOpen: () => rawCipher('sealOpen'),
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
await receivers.plain.worker.terminate();
await receivers.secure.worker.terminate();

const wall = (k: string) => median((samples[k] ?? []).map((r) => r.wall));
const cpu = (k: string) => median((samples[k] ?? []).map((r) => r.cpu));
/** Median event-loop utilization (in %) of the sending or receiving thread of a two-thread row. */
const busy = (k: string, side: 'send' | 'receive') =>
  fmt(100 * median((samples[k] ?? []).map((r) => r.busy?.[side] ?? 0)));
const ceilingCpu = 1 / (1 / cpu('sealOpen') + 1 / cpu('tcp'));
const ceilingWall = 1 / (1 / wall('sealOpen') + 1 / wall('tcp'));
/** Both ends' unavoidable CPU work per byte when each has its own thread: crypto + sockets. */
const floorCpu = 1 / (1 / cpu('sealOpen') + 1 / cpu('tcp2'));

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

/** One direction over two cores: the slower of sealing and opening bounds the channel. */
const oneWay = wall('seal') < wall('open') ? 'seal' : 'open';
const oneWayCpu = cpu('seal') < cpu('open') ? 'seal' : 'open';

const row = (what: string, k: string, refWall: number, refName: string) => [
  what,
  wall(k),
  wall(k) / refWall,
  refName,
  cpu(k),
  cpu(k) / cpu('sealOpen'),
];
const one = (what: string, k: string) => row(what, k, wall('sealOpen'), 'seal + open');
const two = (what: string, k: string) => row(what, k, wall(oneWay), `${oneWay} only`);

report({
  package: '@peerkit/noise',
  name: 'throughput',
  title: `Secure stream throughput: ${TRANSFER / MB} MB in ${WRITE_SIZE / MB} MB writes`,
  columns: [
    'what',
    'MB/s (wall)',
    'vs reference',
    'reference (wall, same run)',
    'MB per CPU-s',
    'vs seal + open (CPU)',
  ],
  rows: [
    one('node:crypto ChaCha20-Poly1305 seal only, one core (65,519-byte messages)', 'seal'),
    one('node:crypto ChaCha20-Poly1305 open only, one core', 'open'),
    one('node:crypto ChaCha20-Poly1305 seal + open, one core', 'sealOpen'),
    one('secure stream over an in-memory stream pair, one thread', 'memory'),
    one('plain TCP, nodeNetwork() loopback, one thread', 'tcp'),
    [
      'ceiling for secure TCP in one thread: 1 / (1/seal+open + 1/TCP)',
      ceilingWall,
      ceilingWall / wall('sealOpen'),
      'seal + open',
      ceilingCpu,
      ceilingCpu / cpu('sealOpen'),
    ],
    one('secure stream over loopback TCP, both ends in one thread', 'secure'),
    two('plain TCP, receiver in a worker thread (rate at the receiver)', 'tcp2'),
    two('secure stream, receiver in a worker thread (rate at the receiver)', 'secure2'),
    [
      'CPU floor for the two-thread secure stream: 1 / (1/seal+open + 1/TCP in two threads)',
      '',
      '',
      '',
      floorCpu,
      floorCpu / cpu('sealOpen'),
    ],
  ],
  notes: [
    `Median of ${ROUNDS} interleaved rounds after a warm-up. One-thread rows compare with raw seal + open on one core (${fmt(wall('sealOpen'))} MB/s), the work both ends do there. Two-thread rows compare with the slower of the two single-core one-direction rates, ${oneWay} only (${fmt(wall(oneWay))} MB/s; seal ${fmt(wall('seal'))}, open ${fmt(wall('open'))}), which bounds a channel whose sender seals on one core while its receiver opens on another. Secure stream with the receiver in its own thread: ${fmt((100 * wall('secure2')) / wall(oneWay))}% of ${oneWay} only (wall); one thread: ${fmt((100 * wall('secure')) / wall('sealOpen'))}% of seal + open (wall), ${fmt((100 * cpu('secure')) / ceilingCpu)}% of the CPU-time ceiling; in memory: ${fmt((100 * cpu('memory')) / cpu('sealOpen'))}% of seal + open (CPU).`,
    `Two-thread secure stream per CPU-second: ${fmt((100 * cpu('secure2')) / floorCpu)}% of its CPU floor.`,
    `Busy (event-loop utilization) while transferring, sender / receiver thread: plain TCP ${busy('tcp2', 'send')}% / ${busy('tcp2', 'receive')}%, secure stream ${busy('secure2', 'send')}% / ${busy('secure2', 'receive')}%.`,
    `MB per CPU-s counts all threads of the process (both ends); its reference is seal + open (${fmt(cpu('sealOpen'))}), the slower single-core CPU rate is ${oneWayCpu} only.`,
  ],
});
