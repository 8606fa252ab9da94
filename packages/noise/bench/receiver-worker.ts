/**
 * The receiving peer of the two-thread benchmark in noise.bench.ts: listens on loopback,
 * accepts streams (secured as responder in `secure` mode, opened as the raw sealed reference
 * in `raw` mode), reads each until its end and reports
 * the bytes and the seconds from its first received byte to the end, so the rate is
 * measured where the data arrives (the handshake is not part of it). One worker serves all
 * rounds, so its code is as warm as a long-running peer's; the benchmark terminates it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { nodeNetwork, type Stream } from '@peerkit/transport';
import { identityFromSecretKey, secureInbound } from '../src/index';
import { openAll } from './raw-sealed';

/** `plain`: TCP only; `secure`: the secure stream; `raw`: the raw sealed reference (raw-sealed.ts). */
const { mode, secretKey, rawKey } = workerData as {
  mode: 'plain' | 'secure' | 'raw';
  secretKey: Uint8Array;
  rawKey: Uint8Array;
};
const network = nodeNetwork();
const identity = identityFromSecretKey(secretKey);

const listener = await network.listen({ host: '127.0.0.1' }, (raw) => {
  void (async () => {
    const stream: Stream =
      mode === 'secure' ? await secureInbound(raw, { identity, clock: network.clock }) : raw;
    let bytes = 0;
    let first = 0;
    let elu = performance.eventLoopUtilization();
    const start = () => {
      first = performance.now();
      elu = performance.eventLoopUtilization();
    };
    if (mode === 'raw') {
      bytes = await openAll(rawKey, stream, start);
    } else {
      for await (const chunk of stream) {
        if (bytes === 0) start();
        bytes += chunk.length;
      }
    }
    const seconds = (performance.now() - first) / 1000;
    // How busy this thread was while receiving (1 = never idle).
    const busy = performance.eventLoopUtilization(elu).utilization;
    await stream.end();
    parentPort?.postMessage({ type: 'done', bytes, seconds, busy });
  })();
});
parentPort?.postMessage({ type: 'listening', port: listener.localAddress.port });
