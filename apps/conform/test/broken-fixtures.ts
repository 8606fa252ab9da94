/**
 * Deliberately broken peers: the suites must catch each bug with a shrunk counterexample and a
 * seed that replays it.
 */
import {
  decodeMessage,
  encodeCompactNodes,
  encodeMessage,
  type KrpcMessage,
} from '@peerkit/kademlia';
import {
  BLOCK_LENGTH,
  encodeBitfield,
  encodeHandshake,
  encodePiece,
  UNCHOKE,
  type V1Metainfo,
  WireDecoder,
} from '@peerkit/piece-exchange';
import type { Address, DatagramSocket, Network, Stream, StreamListener } from '@peerkit/transport';

/**
 * A DHT node that answers ping, find_node and get_peers, but keeps only the first two bytes of
 * the transaction id (a fixed-size buffer bug): `t` longer than 2 bytes comes back truncated.
 */
export async function startTruncatingDhtNode(
  network: Network,
): Promise<{ address: Address; close(): Promise<void> }> {
  const id = network.random.bytes(20);
  const socket: DatagramSocket = await network.bindDatagram({ host: '127.0.0.1' });
  socket.onMessage((data, from) => {
    let query: KrpcMessage;
    try {
      query = decodeMessage(data);
    } catch {
      return;
    }
    if (query.y !== 'q' || !['ping', 'find_node', 'get_peers'].includes(query.q)) return;
    const t = query.t.subarray(0, 2); // the bug
    const nodes = encodeCompactNodes([{ id, address: socket.localAddress }], 4);
    const r =
      query.q === 'ping'
        ? { id }
        : query.q === 'get_peers'
          ? { id, nodes, token: new Uint8Array([1, 2, 3, 4]) }
          : { id, nodes };
    socket.send(encodeMessage({ t, y: 'r', r }), from);
  });
  return { address: socket.localAddress, close: () => socket.close() };
}

/**
 * A seeder that serves every block from the start of its 16 KiB block: a request at an offset
 * that is not a multiple of 16 KiB gets the wrong bytes (standard requests are fine).
 */
export async function startMisalignedSeeder(
  network: Network,
  metainfo: V1Metainfo,
  data: Uint8Array,
): Promise<{ address: Address; close(): Promise<void> }> {
  const streams = new Set<Stream>();
  const serve = async (stream: Stream) => {
    streams.add(stream);
    const decoder = new WireDecoder();
    try {
      for await (const chunk of stream) {
        for (const frame of decoder.decode(chunk)) {
          if (frame.type === 'handshake') {
            await stream.write(
              encodeHandshake({ infoHash: metainfo.infoHash, peerId: network.random.bytes(20) }),
            );
            const bits = new Uint8Array(Math.ceil(metainfo.pieceCount / 8));
            for (let i = 0; i < metainfo.pieceCount; i++)
              bits[i >> 3] = (bits[i >> 3] as number) | (0x80 >> (i & 7));
            await stream.write(encodeBitfield(bits));
          } else if (frame.type === 'interested') {
            await stream.write(UNCHOKE);
          } else if (frame.type === 'request') {
            const aligned = frame.begin - (frame.begin % BLOCK_LENGTH); // the bug
            const start = frame.index * metainfo.pieceLength + aligned;
            await stream.write(
              encodePiece(frame.index, frame.begin, data.slice(start, start + frame.length)),
            );
          }
        }
      }
    } catch {
      stream.destroy();
    }
    streams.delete(stream);
  };
  const listener: StreamListener = await network.listen(
    { host: '127.0.0.1' },
    (stream) => void serve(stream),
  );
  return {
    address: listener.localAddress,
    async close() {
      for (const s of streams) s.destroy();
      await listener.close();
    },
  };
}
