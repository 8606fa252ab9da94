/**
 * transport's compliance suite against uTP over real UDP on loopback: everything a TCP stream
 * promises (echo, backpressure, half-close, refusal, reset, abort), and the datagram side of the
 * shared port. Afterwards no UDP socket or timer may be left open.
 */
import { nodeNetwork } from '@peerkit/transport';
import { describeTransportCompliance } from '@peerkit/transport/testing';
import { utpNetwork } from '../src/index';
import { expectNoLeftovers, openHandles } from './handles';

describeTransportCompliance(
  'uTP over node:dgram 127.0.0.1',
  () => {
    const baseline = openHandles();
    const a = utpNetwork(nodeNetwork());
    const b = utpNetwork(nodeNetwork());
    return {
      a,
      b,
      hostA: '127.0.0.1',
      hostB: '127.0.0.1',
      close: async () => {
        await a.close();
        await b.close();
        await expectNoLeftovers(baseline);
      },
    };
  },
  { streamEchoBytes: 16 * 1024 * 1024 },
);
