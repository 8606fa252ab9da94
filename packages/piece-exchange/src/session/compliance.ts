/**
 * A peer-wire compliance suite against a live seeder: any BitTorrent implementation that
 * listens on an address can be checked with it (peerkit's tests run it against a peerkit
 * seeder; a conformance app can run it against other clients). Each case opens a raw
 * connection through a transport `Network` and speaks the wire protocol byte by byte.
 */
import { createHash } from 'node:crypto';
import type { Address, Network, Stream } from '@peerkit/transport';
import { describe, expect, it } from 'vitest';
import { WireError } from '../errors';
import {
  type TorrentGeometry,
  torrentGeometry,
  WireDecoder,
  type WireFrame,
} from '../wire/decoder';
import {
  decodeExtensionHandshake,
  EXTENSION_HANDSHAKE_ID,
  encodeExtensionHandshake,
  UT_METADATA,
} from '../wire/extension';
import { encodeHandshake } from '../wire/handshake';
import {
  encodeBitfield,
  encodeExtended,
  encodeRequest,
  HAVE_NONE,
  INTERESTED,
} from '../wire/messages';
import { decodeMetadataMessage, encodeMetadataMessage } from '../wire/metadata';

export interface LiveSeeder {
  /** Where the seeder accepts connections. */
  readonly address: Address;
  /** Network to dial it from (nodeNetwork() for a real client, a netsim host otherwise). */
  readonly network: Network;
  readonly infoHash: Uint8Array;
  readonly pieceLength: number;
  readonly totalLength: number;
  /** 20 bytes of SHA-1 per piece. */
  readonly pieceHashes: Uint8Array;
}

export interface PeerWireComplianceOptions {
  /** Longest wait for one expected message (default 10 s). */
  timeoutMs?: number;
}

/** A raw peer-wire connection for tests: send bytes, wait for frames. */
export class WireProbe {
  private readonly decoder: WireDecoder;
  private readonly frames: WireFrame[] = [];
  private waiter: (() => void) | undefined;
  ended = false;
  error: Error | undefined;

  private constructor(
    readonly stream: Stream,
    private readonly network: Network,
    geometry: TorrentGeometry | undefined,
  ) {
    this.decoder = new WireDecoder({ torrent: geometry });
    void this.read();
  }

  static async open(
    network: Network,
    address: Address,
    geometry?: TorrentGeometry,
  ): Promise<WireProbe> {
    return new WireProbe(await network.dial(address, { timeoutMs: 10_000 }), network, geometry);
  }

  private async read(): Promise<void> {
    try {
      for await (const chunk of this.stream) {
        for (const frame of this.decoder.decode(chunk)) this.frames.push(frame);
        this.waiter?.();
      }
    } catch (error) {
      this.error = error instanceof Error ? error : new Error(String(error));
    }
    this.ended = true;
    this.waiter?.();
  }

  send(bytes: Uint8Array): Promise<void> {
    return this.stream.write(bytes);
  }

  /** The next frame matching `predicate` (others before it are dropped), or undefined on end/timeout. */
  async next(
    predicate: (f: WireFrame) => boolean,
    timeoutMs: number,
  ): Promise<WireFrame | undefined> {
    const deadline = this.network.clock.now() + timeoutMs;
    for (;;) {
      while (this.frames.length > 0) {
        const frame = this.frames.shift()!;
        if (predicate(frame)) return frame;
      }
      if (this.ended) return undefined;
      const left = deadline - this.network.clock.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = this.network.clock.setTimeout(resolve, left);
        this.waiter = () => {
          timer.cancel();
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  /** Resolves true when the remote closes the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    await this.next(() => false, timeoutMs);
    return this.ended;
  }

  close(): void {
    this.stream.destroy();
  }
}

const PEER_ID = new TextEncoder().encode('-PKTEST-000000000000');

/** Registers the peer-wire compliance cases (vitest) for the seeder `setup` returns. */
export function describePeerWireCompliance(
  name: string,
  setup: () => Promise<{ seeder: LiveSeeder; teardown(): Promise<void> }>,
  options: PeerWireComplianceOptions = {},
): void {
  const timeout = options.timeoutMs ?? 10_000;

  async function withSeeder(body: (seeder: LiveSeeder) => Promise<void>): Promise<void> {
    const { seeder, teardown } = await setup();
    try {
      await body(seeder);
    } finally {
      await teardown();
    }
  }

  async function handshaken(seeder: LiveSeeder, extended = true): Promise<WireProbe> {
    const geometry = torrentGeometry(seeder.totalLength, seeder.pieceLength);
    const probe = await WireProbe.open(seeder.network, seeder.address, geometry);
    await probe.send(
      encodeHandshake({
        infoHash: seeder.infoHash,
        peerId: PEER_ID,
        extensions: { extended, fast: true },
      }),
    );
    const hs = await probe.next((f) => f.type === 'handshake', timeout);
    expect(hs, 'handshake reply').toBeDefined();
    return probe;
  }

  describe(`peer wire compliance: ${name}`, () => {
    it('answers the handshake with the same info-hash and a 20-byte peer id (BEP 3)', () =>
      withSeeder(async (seeder) => {
        const probe = await WireProbe.open(seeder.network, seeder.address);
        await probe.send(
          encodeHandshake({
            infoHash: seeder.infoHash,
            peerId: PEER_ID,
            extensions: { extended: true, fast: true },
          }),
        );
        const hs = await probe.next((f) => f.type === 'handshake', timeout);
        expect(hs?.type).toBe('handshake');
        if (hs?.type === 'handshake') {
          expect(Buffer.from(hs.infoHash).equals(Buffer.from(seeder.infoHash))).toBe(true);
          expect(hs.peerId.length).toBe(20);
        }
        probe.close();
      }));

    it('announces its pieces first with bitfield or have all (BEP 3, BEP 6)', () =>
      withSeeder(async (seeder) => {
        const probe = await handshaken(seeder);
        const first = await probe.next(
          (f) => f.type !== 'extended' && f.type !== 'keepAlive',
          timeout,
        );
        expect(['bitfield', 'haveAll']).toContain(first?.type);
        probe.close();
      }));

    it('unchokes an interested peer and serves blocks that hash to the piece', () =>
      withSeeder(async (seeder) => {
        const probe = await handshaken(seeder);
        await probe.send(INTERESTED);
        expect((await probe.next((f) => f.type === 'unchoke', timeout))?.type).toBe('unchoke');
        const size = Math.min(seeder.pieceLength, seeder.totalLength);
        const blocks = Math.ceil(size / 16_384);
        const out = new Uint8Array(17 * blocks);
        for (let b = 0; b < blocks; b++)
          out.set(encodeRequest(0, b * 16_384, Math.min(16_384, size - b * 16_384)), b * 17);
        await probe.send(out);
        const piece = new Uint8Array(size);
        for (let b = 0; b < blocks; b++) {
          const f = await probe.next((x) => x.type === 'piece', timeout);
          expect(f?.type).toBe('piece');
          if (f?.type === 'piece') piece.set(f.block, f.begin);
        }
        const digest = createHash('sha1').update(piece).digest();
        expect(Buffer.from(digest).equals(Buffer.from(seeder.pieceHashes.subarray(0, 20)))).toBe(
          true,
        );
        probe.close();
      }));

    it('refuses a request above 16 KiB without crashing, and keeps serving others', () =>
      withSeeder(async (seeder) => {
        const probe = await handshaken(seeder);
        await probe.send(INTERESTED);
        await probe.next((f) => f.type === 'unchoke', timeout);
        const big = new Uint8Array(17);
        new DataView(big.buffer).setUint32(0, 13);
        big[4] = 6;
        new DataView(big.buffer).setUint32(13, 65_536);
        await probe.send(big);
        const answer = await probe.next((f) => f.type === 'reject' || f.type === 'piece', timeout);
        expect(answer?.type === 'piece').toBe(false);
        probe.close();
        const again = await handshaken(seeder);
        again.close();
      }));

    it('ends a connection that does not start with the BitTorrent handshake (MSE/PE) cleanly', () =>
      withSeeder(async (seeder) => {
        const probe = await WireProbe.open(seeder.network, seeder.address);
        // An MSE/PE handshake starts with a 96-byte Diffie-Hellman public key: random bytes.
        const dh = new Uint8Array(96).map((_, i) => (i * 73 + 41) & 0xff);
        dh[0] = 0x8f;
        await probe.send(dh);
        expect(await probe.closedWithin(timeout)).toBe(true);
        // Ended cleanly (FIN), not reset: aria2 then retries the connection in plain.
        expect(probe.error).toBeUndefined();
        const plain = await handshaken(seeder);
        plain.close();
      }));

    it('closes a connection for another info-hash', () =>
      withSeeder(async (seeder) => {
        const probe = await WireProbe.open(seeder.network, seeder.address);
        const other = seeder.infoHash.map((b) => b ^ 0xff);
        await probe.send(encodeHandshake({ infoHash: other, peerId: PEER_ID }));
        await probe.next((f) => f.type === 'handshake', timeout).catch(() => undefined);
        expect(await probe.closedWithin(timeout)).toBe(true);
      }));

    it('tolerates bitfield and have none in the middle of a connection (aria2 sends such)', () =>
      withSeeder(async (seeder) => {
        const probe = await handshaken(seeder);
        const count = Math.ceil(seeder.totalLength / seeder.pieceLength);
        await probe.send(encodeBitfield(new Uint8Array(Math.ceil(count / 8))));
        await probe.send(INTERESTED);
        await probe.next((f) => f.type === 'unchoke', timeout);
        await probe.send(encodeBitfield(new Uint8Array(Math.ceil(count / 8))));
        await probe.send(HAVE_NONE);
        await probe.send(encodeRequest(0, 0, Math.min(16_384, seeder.totalLength)));
        expect((await probe.next((f) => f.type === 'piece', timeout))?.type).toBe('piece');
        probe.close();
      }));

    it('serves its info dictionary over ut_metadata when it announces metadata_size (BEP 9)', () =>
      withSeeder(async (seeder) => {
        const probe = await handshaken(seeder, true);
        await probe.send(
          encodeExtended(
            EXTENSION_HANDSHAKE_ID,
            encodeExtensionHandshake({ m: { [UT_METADATA]: 3 } }),
          ),
        );
        const ext = await probe.next(
          (f) => f.type === 'extended' && f.id === EXTENSION_HANDSHAKE_ID,
          timeout,
        );
        expect(ext?.type).toBe('extended');
        if (ext?.type !== 'extended') return;
        const hs = decodeExtensionHandshake(ext.payload);
        const id = hs.m[UT_METADATA];
        if (!id || hs.metadataSize === undefined) return; // the seeder does not offer metadata
        const pieces = Math.ceil(hs.metadataSize / 16_384);
        for (let p = 0; p < pieces; p++)
          await probe.send(
            encodeExtended(id, encodeMetadataMessage({ type: 'request', piece: p })),
          );
        const info = new Uint8Array(hs.metadataSize);
        for (let p = 0; p < pieces; p++) {
          const f = await probe.next((x) => x.type === 'extended' && x.id === 3, timeout);
          if (f?.type !== 'extended')
            throw new WireError('INVALID_METADATA_MESSAGE', 'no ut_metadata reply');
          const m = decodeMetadataMessage(f.payload);
          expect(m.type).toBe('data');
          if (m.type === 'data') info.set(m.data, m.piece * 16_384);
        }
        expect(
          Buffer.from(createHash('sha1').update(info).digest()).equals(
            Buffer.from(seeder.infoHash),
          ),
        ).toBe(true);
        probe.close();
      }));
  });
}
