/**
 * The receiving peer of the two-thread benchmark in noise.bench.ts: listens on loopback,
 * accepts one stream (secured as responder when `secure`), reads until the end and reports.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { nodeNetwork, type Stream } from '@peerkit/transport';
import { identityFromSecretKey, secureInbound } from '../src/index';

const { secure, secretKey } = workerData as { secure: boolean; secretKey: Uint8Array };
const network = nodeNetwork();
const identity = identityFromSecretKey(secretKey);

const listener = await network.listen({ host: '127.0.0.1' }, (raw) => {
  void (async () => {
    const stream: Stream = secure
      ? await secureInbound(raw, { identity, clock: network.clock })
      : raw;
    let bytes = 0;
    for await (const chunk of stream) bytes += chunk.length;
    await stream.end();
    await listener.close();
    parentPort?.postMessage({ type: 'done', bytes });
  })();
});
parentPort?.postMessage({ type: 'listening', port: listener.localAddress.port });
