/**
 * Interop with Transmission 3.00 (libutp) over uTP, 64 MiB each way. peerkit runs over
 * `utpNetwork` only (it has no TCP at all), dials Transmission's peer port, and a tshark capture
 * on `lo` of that port shows uTP datagrams and no TCP packet between the two. Transmission's own
 * peer list (`transmission-remote -pi`, flag `T`: "connected via uTP") confirms it from the
 * other side.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from '@peerkit/bencode';
import {
  haveClient,
  type Proc,
  startProcess,
  startTransmissionDaemon,
  tempDir,
  waitFor,
} from '@peerkit/dev-kit/interop';
import { memoryFileSystem, Torrent, type TorrentInfo } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utpNetwork } from '../src/index';

const SIZE = 64 * 1024 * 1024;
const PIECE = 256 * 1024;
const available =
  haveClient('transmission-daemon') && haveClient('transmission-remote') && haveClient('tshark');
const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest('hex');

describe.skipIf(!available)('Transmission 3.00 over uTP', () => {
  let work: { path: string; remove(): Promise<void> };
  let data: Uint8Array;
  let info: TorrentInfo;
  let torrentFile: Uint8Array;

  beforeAll(async () => {
    work = await tempDir('utp-tr');
    data = new Uint8Array(SIZE);
    for (let i = 0; i < SIZE; i++) data[i] = (i * 2246822519) >>> 24;
    const pieces = new Uint8Array((SIZE / PIECE) * 20);
    for (let i = 0; i < SIZE / PIECE; i++) {
      pieces.set(
        createHash('sha1')
          .update(data.subarray(i * PIECE, (i + 1) * PIECE))
          .digest(),
        i * 20,
      );
    }
    const name = 'utp-tr.bin';
    const infoDict = { length: SIZE, name, 'piece length': PIECE, pieces };
    const infoBytes = encode(infoDict);
    info = {
      infoHash: new Uint8Array(createHash('sha1').update(infoBytes).digest()),
      name,
      pieceLength: PIECE,
      pieceHashes: pieces,
      files: [{ path: [name], length: SIZE }],
      infoBytes,
    };
    torrentFile = encode({ info: infoDict });
  }, 120_000);

  afterAll(async () => {
    await work?.remove();
  });

  async function daemon(name: string) {
    const dir = join(work.path, name);
    const download = join(dir, 'download');
    await mkdir(download, { recursive: true });
    const d = await startTransmissionDaemon(dir, download, { 'utp-enabled': true });
    await writeFile(join(dir, 'a.torrent'), torrentFile);
    return { ...d, dir, download };
  }

  /** tshark on lo, filtered to Transmission's peer port (TCP and UDP alike). */
  async function capture(port: number, file: string): Promise<Proc> {
    const proc = startProcess(
      'tshark',
      ['-i', 'lo', '-f', `port ${port}`, '-w', file],
      `${file}.log`,
    );
    await waitFor(() => proc.output().includes('Capturing on'), 10_000, 'tshark to start');
    // The capture starts a moment after tshark says so.
    await new Promise((r) => setTimeout(r, 1000));
    return proc;
  }

  function countPackets(file: string, filter: string): number {
    const out = execFileSync(
      'tshark',
      ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    return out.split('\n').filter((l) => l.trim() !== '').length;
  }

  const percentDone = (text: string) => /Percent Done: ([\d.]+)%/.exec(text)?.[1];
  /** Whether Transmission lists a peer with flag T (uTP). */
  const utpPeer = (text: string) =>
    text
      .split('\n')
      .some((line) => line.startsWith('127.0.0.1') && /\bT/.test(line.split(/\s+/)[1] ?? ''));

  it('peerkit seeds, Transmission downloads 64 MiB over uTP; no TCP between them', async () => {
    const d = await daemon('tr-get');
    const pcap = join(d.dir, 'get.pcapng');
    const tshark = await capture(d.peerPort, pcap);
    const fs = memoryFileSystem();
    fs.put(`/seed/${info.name}`, data);
    const network = utpNetwork(nodeNetwork());
    let seeder: Torrent | undefined;
    let sawUtp = false;
    try {
      d.remote('-a', join(d.dir, 'a.torrent'));
      seeder = await Torrent.open({
        network,
        directory: '/seed',
        info,
        fs,
        resume: false,
        assumeComplete: true,
        peers: [{ host: '127.0.0.1', port: d.peerPort }],
      });
      await waitFor(
        () => {
          sawUtp ||= utpPeer(d.remote('-t', '1', '-pi'));
          return percentDone(d.remote('-t', '1', '-i')) === '100';
        },
        300_000,
        () => `Transmission to download; log:\n${d.proc.output().slice(-2000)}`,
      );
      expect(sawUtp).toBe(true);
      const got = await readFile(join(d.download, info.name));
      expect(got.length).toBe(SIZE);
      expect(sha1(got)).toBe(sha1(data));
    } finally {
      await seeder?.close();
      await network.close();
      await d.proc.stop();
      await tshark.stop();
    }
    expect(countPackets(pcap, 'udp')).toBeGreaterThan(1000);
    expect(countPackets(pcap, 'tcp')).toBe(0);
  }, 400_000);

  it('Transmission seeds, peerkit downloads 64 MiB over uTP; no TCP between them', async () => {
    const d = await daemon('tr-seed');
    await writeFile(join(d.download, info.name), data);
    d.remote('-a', join(d.dir, 'a.torrent'));
    d.remote('-t', '1', '-v');
    await waitFor(() => percentDone(d.remote('-t', '1', '-i')) === '100', 60_000, 'verification');
    const pcap = join(d.dir, 'seed.pcapng');
    const tshark = await capture(d.peerPort, pcap);
    const fs = memoryFileSystem();
    const network = utpNetwork(nodeNetwork());
    let getter: Torrent | undefined;
    let sawUtp = false;
    try {
      getter = await Torrent.open({
        network,
        directory: '/get',
        info,
        fs,
        resume: false,
        peers: [{ host: '127.0.0.1', port: d.peerPort }],
      });
      const done = getter.whenDone();
      await waitFor(
        async () => {
          sawUtp ||= utpPeer(d.remote('-t', '1', '-pi'));
          return getter?.done === true;
        },
        300_000,
        () => `peerkit to download; Transmission log:\n${d.proc.output().slice(-2000)}`,
      );
      await done;
      expect(sawUtp).toBe(true);
      const got = fs.snapshot(`/get/${info.name}`);
      expect(got?.length).toBe(SIZE);
      expect(sha1(got as Uint8Array)).toBe(sha1(data));
    } finally {
      await getter?.close();
      await network.close();
      await d.proc.stop();
      await tshark.stop();
    }
    expect(countPackets(pcap, 'udp')).toBeGreaterThan(1000);
    expect(countPackets(pcap, 'tcp')).toBe(0);
  }, 400_000);
});
