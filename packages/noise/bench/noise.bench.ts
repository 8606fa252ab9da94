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
import { fmt, rate, rateAsync, report } from '@peerkit/dev-kit/bench';
import { type Clock, nodeNetwork, type Stream } from '@peerkit/transport';
import {
  generateIdentity,
  generateKeyPair,
  HandshakeState,
  MAX_PLAINTEXT,
  secureInbound,
  secureOutbound,
} from '../src/index';
import { ManualClock, memoryStreamPair } from '../src/testing';
import { messagesIn, openAll, sealBatch } from './raw-sealed';

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

/** The key of the raw sealed reference (raw-sealed.ts), shared with the receiver worker. */
const rawKey = randomBytes(32);

/** Sends `TRANSFER` bytes as raw sealed messages (raw-sealed.ts), one batch per write. */
async function sendRawSealed(a: Stream): Promise<void> {
  const chunk = randomBytes(WRITE_SIZE);
  let nonce = 0;
  for (let sent = 0; sent < TRANSFER; sent += WRITE_SIZE) {
    await a.write(sealBatch(rawKey, nonce, chunk));
    nonce += messagesIn(WRITE_SIZE);
  }
  await a.end();
}

/** The raw cipher over the same TCP, both ends in one thread (the reference of `secure`). */
async function rawSealedTcp(): Promise<Rate> {
  const { a, b, close } = await tcpPair();
  const r = await measure(TRANSFER, async () => {
    const [received] = await Promise.all([openAll(rawKey, b), sendRawSealed(a)]);
    if (received !== TRANSFER) throw new Error(`received ${received} of ${TRANSFER} bytes`);
  });
  await b.end();
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
type Mode = 'plain' | 'secure' | 'raw';

async function startReceiver(mode: Mode): Promise<Receiver> {
  const worker = new Worker(new URL('./receiver-worker.mjs', import.meta.url), {
    workerData: { mode, secretKey: ib.secretKey, rawKey },
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

const receivers: Record<Mode, Receiver> = {
  plain: await startReceiver('plain'),
  secure: await startReceiver('secure'),
  raw: await startReceiver('raw'),
};

async function twoThreads(mode: Mode): Promise<Rate> {
  const { worker, port } = receivers[mode];
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
  const stream: Stream =
    mode === 'secure' ? await secureOutbound(raw, { identity: ia, clock: network.clock }) : raw;
  const chunk = randomBytes(WRITE_SIZE);
  let atReceiver = 0;
  let busy = { send: 0, receive: 0 };
  const r = await measure(TRANSFER, async () => {
    const elu = performance.eventLoopUtilization();
    if (mode === 'raw') {
      await sendRawSealed(stream);
    } else {
      for (let sent = 0; sent < TRANSFER; sent += WRITE_SIZE) await stream.write(chunk);
      await stream.end();
    }
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
  rawTcp: rawSealedTcp,
  tcp2: () => twoThreads('plain'),
  secure2: () => twoThreads('secure'),
  rawTcp2: () => twoThreads('raw'),
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
for (const { worker } of Object.values(receivers)) await worker.terminate();

const wall = (k: string) => median((samples[k] ?? []).map((r) => r.wall));
const cpu = (k: string) => median((samples[k] ?? []).map((r) => r.cpu));
/** Median event-loop utilization (0..1) of the sending or receiving thread of a two-thread row. */
const busyOf = (k: string, side: 'send' | 'receive') =>
  median((samples[k] ?? []).map((r) => r.busy?.[side] ?? 0));
const busy = (k: string, side: 'send' | 'receive') => fmt(100 * busyOf(k, side));
/** One thread doing both ends' crypto and socket work: 1 / (1/(seal + open) + 1/TCP). */
const ceilingWall = 1 / (1 / wall('sealOpen') + 1 / wall('tcp'));

/** One direction over two cores: the slower of sealing and opening bounds the channel. */
const oneWay = wall('seal') < wall('open') ? 'seal' : 'open';
/**
 * The fastest any layer over these sockets could go with each end on its own thread: the
 * sender must seal and send every MB, the receiver receive and open it. Socket seconds per MB
 * are the busy time of the plain-TCP threads (event-loop utilization over the rate); crypto
 * seconds per MB are the single-core seal-only and open-only rates.
 */
const sendSecondsPerMB = busyOf('tcp2', 'send') / wall('tcp2');
const receiveSecondsPerMB = busyOf('tcp2', 'receive') / wall('tcp2');
const boundWall =
  1 / Math.max(1 / wall('seal') + sendSecondsPerMB, 1 / wall('open') + receiveSecondsPerMB);

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

/**
 * A row: the rate, then the rate over the raw cipher alone (in memory: seal + open on one core
 * for one-thread rows, the slower one-direction rate for two-thread rows), then over the raw
 * cipher sent over the same sockets in the same thread layout (`overTcp`, if any).
 */
const row = (what: string, k: string, alone: number, overTcp?: string) => [
  what,
  wall(k),
  wall(k) / alone,
  overTcp === undefined ? '' : wall(k) / wall(overTcp),
  cpu(k),
];
const one = (what: string, k: string, overTcp?: string) => row(what, k, wall('sealOpen'), overTcp);
const two = (what: string, k: string, overTcp?: string) => row(what, k, wall(oneWay), overTcp);
const computed = (what: string, rate: number, alone: number) => [what, rate, rate / alone, '', ''];

report({
  package: '@peerkit/noise',
  name: 'throughput',
  title: `Secure stream throughput: ${TRANSFER / MB} MB in ${WRITE_SIZE / MB} MB writes`,
  columns: [
    'what',
    'MB/s (wall)',
    'vs raw cipher alone',
    'vs raw cipher over the same TCP',
    'MB per CPU-s',
  ],
  rows: [
    one('node:crypto ChaCha20-Poly1305 seal only, one core (65,519-byte messages)', 'seal'),
    one('node:crypto ChaCha20-Poly1305 open only, one core', 'open'),
    one('node:crypto ChaCha20-Poly1305 seal + open, one core', 'sealOpen'),
    one('**secure stream over an in-memory stream pair, one thread**', 'memory'),
    one('plain TCP, nodeNetwork() loopback, one thread', 'tcp'),
    one('raw cipher over that TCP (bench/raw-sealed.ts), one thread', 'rawTcp'),
    computed(
      'bound for any layer, one thread: 1 / (1/(seal+open) + 1/TCP)',
      ceilingWall,
      wall('sealOpen'),
    ),
    one('**secure stream over loopback TCP, both ends in one thread**', 'secure', 'rawTcp'),
    two('plain TCP, receiver in a worker thread (rate at the receiver)', 'tcp2'),
    two('raw cipher over that TCP, receiver in a worker thread', 'rawTcp2'),
    computed(
      'bound for any layer, two threads: crypto + socket time of the busier end',
      boundWall,
      wall(oneWay),
    ),
    two(
      '**secure stream, receiver in a worker thread (rate at the receiver)**',
      'secure2',
      'rawTcp2',
    ),
  ],
  notes: [
    `Median of ${ROUNDS} interleaved rounds after a warm-up. "Raw cipher alone": one-thread rows compare with node:crypto seal + open on one core (${fmt(wall('sealOpen'))} MB/s), the work both ends do there; two-thread rows with the slower single-core direction, ${oneWay} only (${fmt(wall(oneWay))} MB/s; seal ${fmt(wall('seal'))}, open ${fmt(wall('open'))}). "Raw cipher over the same TCP": the same messages sealed and opened by bench/raw-sealed.ts over the same nodeNetwork() sockets in the same thread layout, so the ratio is the cost of the Noise layer itself.`,
    `Secure stream: in memory ${fmt((100 * wall('memory')) / wall('sealOpen'))}% of the raw cipher; over TCP in one thread ${fmt((100 * wall('secure')) / wall('rawTcp'))}% of the raw cipher over TCP (${fmt((100 * wall('secure')) / wall('sealOpen'))}% of the cipher alone, bound ${fmt((100 * ceilingWall) / wall('sealOpen'))}%); in two threads ${fmt((100 * wall('secure2')) / wall('rawTcp2'))}% of the raw cipher over TCP (${fmt((100 * wall('secure2')) / wall(oneWay))}% of the cipher alone, bound ${fmt((100 * boundWall) / wall(oneWay))}%).`,
    `Socket cost per MB from the plain-TCP threads: send ${fmt(1000 * sendSecondsPerMB)} ms, receive ${fmt(1000 * receiveSecondsPerMB)} ms; crypto per MB: seal ${fmt(1000 / wall('seal'))} ms, open ${fmt(1000 / wall('open'))} ms.`,
    `Busy (event-loop utilization) while transferring, sender / receiver thread: plain TCP ${busy('tcp2', 'send')}% / ${busy('tcp2', 'receive')}%, raw cipher ${busy('rawTcp2', 'send')}% / ${busy('rawTcp2', 'receive')}%, secure stream ${busy('secure2', 'send')}% / ${busy('secure2', 'receive')}%.`,
    'MB per CPU-s counts the CPU time of all threads of the process (both ends), whatever the scheduler granted.',
  ],
});
