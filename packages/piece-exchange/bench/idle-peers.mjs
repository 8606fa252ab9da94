// The other side of bench/scale.bench.ts, in its own process (so that the seeding process is
// measured alone): opens idle BitTorrent connections on loopback, then times requests.
//
// Input (argv[2]): a JSON file { targets: [{ host, port, infoHash }], connections, concurrency }.
// Each idle connection sends the BEP 3 handshake for a target (round-robin), waits for the
// answering handshake and then stays open, silent. On stdout: {"connected": n, "failed": m}.
// Then, for each line "serve <n>" on stdin: n requests, one after another, each on a fresh
// connection to a random target: handshake, interested, wait for unchoke, request the first
// 16 KiB block of piece 0, wait for the whole piece message; prints {"serveMs": [...]}.
// "quit" closes everything.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const sockets = [];

function handshake(infoHash) {
  const out = Buffer.alloc(68);
  out[0] = 19;
  out.write('BitTorrent protocol', 1, 'latin1');
  Buffer.from(infoHash, 'hex').copy(out, 28);
  Buffer.concat([Buffer.from('-BN0001-'), randomBytes(12)]).copy(out, 48);
  return out;
}

/** Connects and handshakes; resolves with the socket and a reader of whole messages. */
function open(target, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.host, port: target.port });
    let buffered = Buffer.alloc(0);
    let shaken = false;
    let onMessage = () => undefined;
    // Whether the seeder unchoked us: it may do so before we are interested (BEP 3 allows it).
    const state = { unchoked: false };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('handshake timeout'));
    }, timeoutMs);
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('data', (chunk) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!shaken) {
        if (buffered.length < 68) return;
        shaken = true;
        buffered = buffered.subarray(68);
        clearTimeout(timer);
        resolve({ socket, state, onMessages: (f) => (onMessage = f) });
      }
      while (buffered.length >= 4) {
        const length = buffered.readUInt32BE(0);
        if (buffered.length < 4 + length) break;
        const message = buffered.subarray(4, 4 + length);
        buffered = buffered.subarray(4 + length);
        if (length > 0 && message[0] <= 1) state.unchoked = message[0] === 1;
        if (length > 0) onMessage(message);
      }
    });
    socket.on('connect', () => socket.write(handshake(target.infoHash)));
  });
}

async function idle() {
  let next = 0;
  let connected = 0;
  let failed = 0;
  async function worker() {
    while (next < spec.connections) {
      const target = spec.targets[next++ % spec.targets.length];
      try {
        const { socket } = await open(target);
        sockets.push(socket);
        connected++;
      } catch {
        failed++;
      }
    }
  }
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  return { connected, failed };
}

async function serveOnce() {
  const target = spec.targets[Math.floor(Math.random() * spec.targets.length)];
  const start = performance.now();
  const { socket, state, onMessages } = await open(target);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no piece within 20 s')), 20_000);
    // Request piece 0, offset 0, 16 KiB (BEP 3) once unchoked.
    const request = () => {
      const out = Buffer.alloc(17);
      out.writeUInt32BE(13, 0);
      out[4] = 6;
      out.writeUInt32BE(0, 5);
      out.writeUInt32BE(0, 9);
      out.writeUInt32BE(16_384, 13);
      socket.write(out);
    };
    onMessages((message) => {
      const id = message[0];
      if (id === 1) {
        request();
      } else if (id === 7) {
        clearTimeout(timer);
        const ms = performance.now() - start;
        socket.destroy();
        resolve(ms);
      }
    });
    socket.write(Buffer.from([0, 0, 0, 1, 2])); // interested
    if (state.unchoked) request();
  });
}

const result = await idle();
process.stdout.write(`${JSON.stringify(result)}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'quit') break;
  const [command, n] = line.split(' ');
  if (command === 'serve') {
    const serveMs = [];
    for (let i = 0; i < Number(n); i++) serveMs.push(await serveOnce());
    process.stdout.write(`${JSON.stringify({ serveMs })}\n`);
  }
}
for (const s of sockets) s.destroy();
process.exit(0);
