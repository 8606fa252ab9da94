/**
 * File selection and streaming, end to end on loopback: a seeder of a three-file torrent, a
 * leecher that downloads only the first and the third file (the second is never created: its
 * bytes that share a piece with the others are kept in a part file), reads the END of the third
 * through a read stream (those pieces are fetched first), then selects the second file later.
 *
 * Run it in packages/piece-exchange:
 *   npx tsx --conditions @peerkit/source examples/select-and-stream.ts
 * The README shows this file from its first import; test/readme-example.test.ts runs it and
 * checks that the README still shows it verbatim.
 */
import { randomBytes } from 'node:crypto';
import {
  createTorrent,
  memoryFileSystem,
  Torrent,
  torrentInfoFromMetainfo,
} from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';

export async function selectAndStream(): Promise<{
  tail: Buffer;
  expected: Buffer;
  files: string[];
}> {
  // Three files whose boundaries fall inside 16 KiB pieces.
  const sizes = [100_000, 30_000, 250_000];
  const contents = sizes.map((n) => new Uint8Array(randomBytes(n)));
  const made = await createTorrent(
    contents.map((content, i) => ({ path: [`part${i + 1}.bin`], length: sizes[i]!, content })),
    { name: 'album', pieceLength: 16_384 },
  );
  const info = torrentInfoFromMetainfo(made.metainfo);

  // A seeder (files in memory; `nodeFileSystem()`, the default, for real disks).
  const seedFs = memoryFileSystem();
  for (const [i, c] of contents.entries()) seedFs.put(`/seed/album/part${i + 1}.bin`, c);
  const seeder = await Torrent.open({
    network: nodeNetwork(),
    directory: '/seed',
    info,
    fs: seedFs,
    assumeComplete: true,
    listen: { host: '127.0.0.1' },
  });

  // The leecher wants files 1 and 3 (counted from 0: 0 and 2), file 3 first.
  const fs = memoryFileSystem();
  const leecher = await Torrent.open({
    network: nodeNetwork(),
    directory: '/downloads',
    info,
    fs,
    filePriorities: ['normal', 'skip', 'high'],
    peers: [seeder.listenAddress!],
  });

  // Read the last 10,000 bytes of file 3 at once: the pieces under the read head come first.
  const chunks: Buffer[] = [];
  for await (const chunk of leecher.createReadStream(2, { start: 240_000 })) chunks.push(chunk);
  const tail = Buffer.concat(chunks);

  await leecher.whenDone(); // every piece of the selected files is verified
  const files = ['part1.bin', 'part2.bin', 'part3.bin'].filter(
    (name) => fs.snapshot(`/downloads/album/${name}`) !== undefined,
  );

  // Later: select file 2 too. It is created, given the bytes kept aside, and completed.
  await leecher.select([0, 1, 2]);
  await leecher.whenDone();
  await leecher.close();
  await seeder.close();
  return { tail, expected: Buffer.from(contents[2]!.subarray(240_000)), files };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { tail, expected, files } = await selectAndStream();
  console.log(`files on disk before selecting part2.bin: ${files.join(', ')}`);
  console.log(
    `streamed the last ${tail.length} bytes of part3.bin: ${tail.equals(expected) ? 'right' : 'WRONG'}`,
  );
}
