/**
 * One side of the transfer benchmark, run as its own process by transfer.bench.ts:
 *   seed <torrent> <dir>          prints `READY <port>`, serves until a `stop` line on stdin
 *   leech <torrent> <dir> <port>  downloads from 127.0.0.1:<port>, prints a JSON result line
 * Both print their CPU time and peak RSS (process.resourceUsage) when they finish.
 * PEERKIT_ENCRYPTION (`plain` by default here, `require` for MSE/PE RC4) sets both sides' policy. It imports
 * the package by name: the built dist/ when run with plain node (what users run), the sources
 * when run with `--conditions=@peerkit/source --import tsx`.
 */
import { readFileSync } from 'node:fs';
import { parseTorrent, Torrent, torrentInfoFromMetainfo } from '@peerkit/piece-exchange';
import { nodeNetwork } from '@peerkit/transport';

function usage() {
  const r = process.resourceUsage();
  return { cpuMs: (r.userCPUTime + r.systemCPUTime) / 1000, maxRssMB: r.maxRSS / 1024 };
}

const [role = '', torrentPath = '', dir = '', port = '0'] = process.argv.slice(2);
const encryption = process.env.PEERKIT_ENCRYPTION ?? 'plain';
const info = torrentInfoFromMetainfo(parseTorrent(new Uint8Array(readFileSync(torrentPath))));

if (role === 'seed') {
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: dir,
    info,
    listen: { host: '127.0.0.1' },
    encryption,
  });
  if (!torrent.done) throw new Error('seeder is missing pieces');
  console.log(`READY ${torrent.listenAddress?.port}`);
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', async (line) => {
    if (!String(line).includes('stop')) return;
    await torrent.close();
    console.log(JSON.stringify({ role, ...usage(), uploaded: torrent.stats().uploaded }));
    process.exit(0);
  });
} else {
  const start = performance.now();
  if (process.env.BENCH_MEMORY)
    setInterval(
      () =>
        console.error(
          Object.values(process.memoryUsage())
            .map((v) => (v / 2 ** 20).toFixed(0))
            .join(' '),
        ),
      300,
    ).unref();
  const torrent = await Torrent.open({
    network: nodeNetwork(),
    directory: dir,
    info,
    resume: false,
    peers: [{ host: '127.0.0.1', port: Number(port) }],
    encryption,
  });
  await torrent.whenDone();
  // Every piece verified and written (handed to the OS), like aria2's "Download complete".
  const ms = performance.now() - start;
  if (process.env.BENCH_MEMORY) console.error(process.memoryUsage());
  const stats = torrent.stats();
  await torrent.close(); // fdatasync + resume data: not counted, aria2 does not sync either
  const closeMs = performance.now() - start - ms;
  console.log(JSON.stringify({ role, ms, closeMs, bytes: stats.totalLength, ...usage() }));
  process.exit(0);
}
