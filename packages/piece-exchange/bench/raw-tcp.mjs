// Raw Node-to-Node loopback TCP for cli-transfer.bench.ts, one process per side:
//   raw-tcp.mjs receive <bytes>          prints "READY <port>", then a JSON line once <bytes> came
//   raw-tcp.mjs send <bytes> <port>      writes <bytes> in 256 KiB buffers, honouring backpressure
import { createConnection, createServer } from 'node:net';

const [mode, total, port] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const CHUNK = 256 * 1024;

if (mode === 'receive') {
  const server = createServer((socket) => {
    let received = 0;
    const start = performance.now();
    socket.on('data', (data) => {
      received += data.length;
      if (received >= total) {
        console.log(JSON.stringify({ ms: performance.now() - start, bytes: received }));
        socket.destroy();
        server.close();
      }
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(`READY ${server.address().port}`));
} else {
  const socket = createConnection({ host: '127.0.0.1', port });
  const buffer = Buffer.alloc(CHUNK, 7);
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += CHUNK;
      if (!socket.write(buffer)) return void socket.once('drain', pump);
    }
    socket.end();
  };
  socket.on('connect', pump);
  socket.on('error', () => undefined);
}
