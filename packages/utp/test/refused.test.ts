/**
 * libtorrent turns a connection away by answering our ST_SYN with ST_FIN (seen on loopback
 * when dialling a libtorrent that is still adding the torrent) and then never acknowledges
 * anything again, nor resets. The dial fails at once with CONNECTION_REFUSED, so the dialer
 * may try again, instead of opening a stream that ends at once and then waiting 4 timeouts for
 * the ACK of our own ST_FIN.
 */
import type { Clock, Timer, TransportError } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionHost } from '../src/connection';
import { decodePacket, encodePacket, type PacketType, ST_FIN, ST_STATE } from '../src/header';

const clock: Clock = {
  now: () => 1_000,
  setTimeout: (): Timer => ({ cancel() {} }),
  setInterval: (): Timer => ({ cancel() {} }),
};

function dial() {
  const events: string[] = [];
  const sent: Uint8Array[] = [];
  let error: TransportError | undefined;
  const host: ConnectionHost = {
    transmit: (d) => sent.push(d),
    armTimer() {},
    onConnected: () => events.push('connected'),
    onData() {},
    onEnd: () => events.push('end'),
    onFinSent() {},
    onFinAcked() {},
    onPeerSilent() {},
    onWritable() {},
    onClose: (e) => {
      events.push('close');
      error = e;
    },
  };
  const connection = Connection.connect(clock, host, 1000);
  return { connection, events, sent, error: () => error };
}

function answer(type: PacketType): Uint8Array {
  return encodePacket({
    type,
    connectionId: 1000,
    timestampMicroseconds: 1,
    timestampDifferenceMicroseconds: 0,
    wndSize: 1_048_576,
    seqNr: 500,
    ackNr: 1,
    extensions: [],
    payload: new Uint8Array(0),
  });
}

describe('a peer that answers ST_SYN with ST_FIN', () => {
  it('refuses the dial at once and sends nothing more', () => {
    const d = dial();
    const before = d.sent.length;
    d.connection.receive(decodePacket(answer(ST_FIN)));
    expect(d.connection.state).toBe('CS_CLOSED');
    expect(d.events).toEqual(['close']);
    expect(d.error()?.code).toBe('CONNECTION_REFUSED');
    d.connection.write(new Uint8Array(100));
    expect(d.sent.length).toBe(before);
  });

  it('an ST_STATE answer still opens the connection', () => {
    const d = dial();
    d.connection.receive(decodePacket(answer(ST_STATE)));
    expect(d.connection.state).toBe('CS_CONNECTED');
    expect(d.events).toEqual(['connected']);
  });
});
