/**
 * BEP 29 "packet loss": three duplicate ACKs mean `ack_nr + 1` is lost. A window update (the
 * same `ack_nr` with another `wnd_size`, sent when the peer's reader drained, as libtorrent does)
 * is not a duplicate ACK (TCP's rule, RFC 5681 section 2): counting it resent packets that were
 * never lost and halved the window.
 */
import type { Clock, Timer } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { Connection, type ConnectionHost } from '../src/connection';
import { decodePacket, encodePacket, ST_DATA, ST_STATE } from '../src/header';

/** A clock that only moves when told (no timer ever fires here). */
const clock: Clock = {
  now: () => 1_000,
  setTimeout: (): Timer => ({ cancel() {} }),
  setInterval: (): Timer => ({ cancel() {} }),
};

function connected(): { connection: Connection; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const host: ConnectionHost = {
    transmit: (d) => sent.push(d),
    armTimer() {},
    onConnected() {},
    onData() {},
    onEnd() {},
    onFinSent() {},
    onFinAcked() {},
    onPeerSilent() {},
    onWritable() {},
    onClose() {},
  };
  const connection = Connection.connect(clock, host, 1000);
  // The acceptor's ST_STATE for our ST_SYN (seq_nr 1).
  connection.receive(decodePacket(stateFor(1, 1_048_576)));
  return { connection, sent };
}

function stateFor(ackNr: number, wndSize: number): Uint8Array {
  return encodePacket({
    type: ST_STATE,
    connectionId: 1000,
    timestampMicroseconds: 1,
    timestampDifferenceMicroseconds: 0,
    wndSize,
    seqNr: 500,
    ackNr,
    extensions: [],
    payload: new Uint8Array(0),
  });
}

describe('duplicate ACKs', () => {
  it('three ACKs of the same ack_nr and wnd_size resend ack_nr + 1', () => {
    const { connection } = connected();
    connection.write(new Uint8Array(3000));
    expect(connection.inFlightPackets).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < 3; i++) connection.receive(decodePacket(stateFor(1, 1_048_576)));
    expect(connection.stats.retransmits).toBe(1);
  });

  it('window updates with the same ack_nr are not duplicate ACKs', () => {
    const { connection, sent } = connected();
    connection.write(new Uint8Array(3000));
    const before = sent.filter((d) => decodePacket(d).type === ST_DATA).length;
    for (let i = 0; i < 6; i++) {
      connection.receive(decodePacket(stateFor(1, 1_000_000 + i * 10_000)));
    }
    expect(connection.stats.retransmits).toBe(0);
    expect(sent.filter((d) => decodePacket(d).type === ST_DATA).length).toBe(before);
  });
});
