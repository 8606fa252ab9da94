/**
 * `pnpm demo`: a whole swarm on loopback, no outside servers. It starts real `peerkit-share`
 * processes (the built dist/cli.js with `--json`):
 *
 *   1. a DHT bootstrap node (`dht-node`) and a tracker (`tracker`: HTTP and UDP on one port),
 *   2. a seeder sharing a freshly generated 64 MiB file (`share`), announcing to the DHT and to
 *      the tracker over HTTP (BEP 3),
 *   3. three getters given only the magnet link (`get <magnet>`) and the tracker's UDP URL: they
 *      find the seeder, and each other, through the DHT and the tracker (BEP 15), fetch the info
 *      dictionary (BEP 9) and the pieces,
 *
 * shows their progress, checks every copy (SHA-1 and SHA-256 of the whole file against the
 * original), prints a summary (time, rates, bytes from each peer), stops every process it
 * started by PID, removes its temporary directory, and exits 0 (1 on any failure or after 60 s).
 *
 * Options (environment): PEERKIT_DEMO_MIB (file size, default 64), PEERKIT_DEMO_GETTERS (3).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cliProgress from 'cli-progress';
import pc from 'picocolors';
import { type CliEvent, type CliProcess, spawnCli } from './cli-process';
import { formatBytes, formatRate } from './report';

const DEMO_TIMEOUT_MS = 60_000;
const MIB = 1024 * 1024;

interface Digests {
  sha1: string;
  sha256: string;
}

/** Writes `size` random bytes to `path`, returning their SHA-1 and SHA-256. */
async function generateFile(path: string, size: number): Promise<Digests> {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  const file = await open(path, 'w');
  try {
    for (let written = 0; written < size; ) {
      const chunk = randomBytes(Math.min(4 * MIB, size - written));
      sha1.update(chunk);
      sha256.update(chunk);
      await file.write(chunk);
      written += chunk.length;
    }
  } finally {
    await file.close();
  }
  return { sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
}

async function digestsOf(path: string): Promise<Digests> {
  const sha1 = createHash('sha1');
  const sha256 = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MIB })) {
    sha1.update(chunk as Buffer);
    sha256.update(chunk as Buffer);
  }
  return { sha1: sha1.digest('hex'), sha256: sha256.digest('hex') };
}

/**
 * HOOK(messenger): steps run after the file transfer, while the DHT bootstrap node is still up
 * (they get its address). Empty here: the root `pnpm demo` (scripts/demo.mjs) runs this demo and
 * then the messenger's three-node conversation (`runChatDemo` from apps/messenger) itself. A step
 * that should share this demo's DHT node goes in this list.
 */
export interface DemoStep {
  title: string;
  run(context: {
    cli: string;
    bootstrap: string;
    work: string;
    log: (line: string) => void;
  }): Promise<void>;
}
export const laterSteps: DemoStep[] = [];

interface GetterProgress {
  verified: number;
  pieces: number;
  rate: number;
  peers: number;
  pieceLength: number;
  /** Recent (time, verified) samples for the rate. */
  recent: { time: number; verified: number }[];
  done?: CliEvent;
  bar?: cliProgress.SingleBar;
}

interface Getter {
  name: string;
  out: string;
  process: CliProcess;
  progress: GetterProgress;
}

/** Follows a getter's events: pieces verified, open connections, and the rate over ~1 s. */
function track(progress: GetterProgress, e: CliEvent): void {
  if (e.event === 'piece') {
    progress.verified = Number(e.verified);
    progress.pieces = Number(e.pieces);
    const now = Number(e.time);
    progress.recent.push({ time: now, verified: progress.verified });
    while (progress.recent.length > 2 && progress.recent[0]!.time < now - 1000)
      progress.recent.shift();
    const first = progress.recent[0]!;
    const seconds = Math.max(0.05, (now - first.time) / 1000);
    progress.rate = ((progress.verified - first.verified) * progress.pieceLength) / seconds;
  } else if (e.event === 'metadata') {
    progress.pieces = Number(e.pieces);
    progress.pieceLength = Number(e.pieceLength);
  } else if (e.event === 'peer' && e.action !== 'rejected') {
    progress.peers += e.action === 'connect' ? 1 : -1;
  } else if (e.event === 'done') {
    progress.done = e;
  }
}

type Totals = Record<
  string,
  { downloaded: number; uploaded: number; pieces: number; sharedPieces: number }
>;

function portOf(g: Getter): number {
  return Number(g.process.events.find((e) => e.event === 'listening')?.port);
}

type View = { name: string; port: number; totals: Totals };

/**
 * Names a peer of a node's totals: they are keyed by the peer's listen address (the address we
 * dialed, or the `p` port of its extension handshake), and each node listens on its own port.
 */
function nameOf(views: readonly View[], address: string): string {
  const port = Number(address.split(':').pop());
  return views.find((v) => v.port === port)?.name ?? address;
}

export async function runDemo(): Promise<number> {
  const cli = fileURLToPath(new URL('./cli.js', import.meta.url));
  const sizeMiB = Number(process.env.PEERKIT_DEMO_MIB ?? 64);
  const getterCount = Number(process.env.PEERKIT_DEMO_GETTERS ?? 3);
  const work = await mkdtemp(join(tmpdir(), 'peerkit-demo-'));
  const processes: CliProcess[] = [];
  const tty = process.stdout.isTTY === true;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const started = Date.now();
  const deadline = setTimeout(() => {
    log(pc.red(`demo: not finished after ${DEMO_TIMEOUT_MS / 1000} s, stopping`));
    for (const p of processes) if (p.running && p.pid !== undefined) process.kill(p.pid, 'SIGKILL');
    void rm(work, { recursive: true, force: true }).finally(() => process.exit(1));
  }, DEMO_TIMEOUT_MS);
  let bars: cliProgress.MultiBar | undefined;
  try {
    log(
      pc.bold(
        `peerkit-share demo: 1 DHT node, 1 tracker, 1 seeder, ${getterCount} getters on 127.0.0.1, a ${sizeMiB} MiB file`,
      ),
    );
    log(`work directory: ${work}`);
    const content = join(work, 'seed', 'demo.bin');
    await mkdir(join(work, 'seed'), { recursive: true });
    const original = await generateFile(content, sizeMiB * MIB);
    log(`generated ${formatBytes(sizeMiB * MIB)}  sha1 ${original.sha1}`);

    // 1. The DHT bootstrap node.
    const dht = spawnCli(
      [
        'dht-node',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--state-dir',
        join(work, 'dht'),
        '--json',
      ],
      { cli },
    );
    processes.push(dht);
    const dhtListening = await dht.waitForEvent('listening', 15_000);
    const bootstrap = `127.0.0.1:${dhtListening.dhtPort}`;
    log(`${pc.cyan('dht-node')}   pid ${dht.pid}, UDP ${bootstrap}`);

    // 1b. The tracker: peerkit's own (in memory), HTTP on TCP and BEP 15 on UDP, one port.
    const tracker = spawnCli(['tracker', '--host', '127.0.0.1', '--port', '0', '--json'], {
      cli,
    });
    processes.push(tracker);
    const trackerListening = (await tracker.waitForEvent('listening', 15_000)) as CliEvent & {
      url: string;
      udpUrl: string;
    };
    log(
      `${pc.cyan('tracker')}    pid ${tracker.pid}, ${trackerListening.url} and ${trackerListening.udpUrl}`,
    );

    const common = ['--host', '127.0.0.1', '--bootstrap', bootstrap, '--json'];
    // 2. The seeder, announcing to the DHT and to the tracker over HTTP.
    const seeder = spawnCli(
      [
        'share',
        content,
        '--state-dir',
        join(work, 'seed-state'),
        '--tracker',
        trackerListening.url,
        ...common,
      ],
      { cli },
    );
    processes.push(seeder);
    const seedListening = await seeder.waitForEvent('listening', 30_000);
    const { magnet } = (await seeder.waitForEvent('torrent', 30_000)) as CliEvent & {
      magnet: string;
    };
    await seeder.waitForEvent('announced', 30_000);
    const seedTracker = await seeder.waitForEvent('tracker', 30_000);
    log(
      `${pc.green('seeder')}     pid ${seeder.pid}, TCP 127.0.0.1:${seedListening.port}, announced on the DHT and to ${seedTracker.url} (event=${seedTracker.announce})`,
    );
    log(`magnet: ${magnet}`);

    // 3. The getters, given only the magnet link.
    const transferStart = Date.now();
    const getters: Getter[] = [];
    for (let i = 1; i <= getterCount; i++) {
      const name = `getter ${i}`;
      const out = join(work, `getter${i}`, 'download');
      const progress: GetterProgress = {
        verified: 0,
        pieces: 0,
        rate: 0,
        peers: 0,
        pieceLength: 0,
        recent: [],
      };
      const child = spawnCli(
        [
          'get',
          magnet,
          '--out',
          out,
          '--state-dir',
          join(work, `getter${i}`, 'state'),
          '--tracker',
          trackerListening.udpUrl,
          ...common,
        ],
        {
          cli,
          onEvent: (e) => {
            track(progress, e);
          },
        },
      );
      processes.push(child);
      getters.push({ name, out, process: child, progress });
      log(`${pc.cyan(name)}   pid ${child.pid}, get <magnet> --tracker ${trackerListening.udpUrl}`);
    }

    // Progress: bars on a terminal, a line a second otherwise.
    let ticks = 0;
    const showProgress = () => {
      ticks++;
      if (bars === undefined && tty) {
        bars = new cliProgress.MultiBar(
          {
            format: '{name} {bar} {percentage}% | {rate} | peers {peers}',
            barsize: 30,
            hideCursor: true,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        for (const g of getters)
          g.progress.bar = bars.create(1, 0, { name: g.name, rate: '', peers: 0 });
      }
      for (const { name, progress: p } of getters) {
        const payload = { name, rate: p.done ? 'done' : formatRate(p.rate), peers: p.peers };
        p.bar?.setTotal(Math.max(1, p.pieces));
        p.bar?.update(p.verified, payload);
      }
      if (!tty && ticks % 5 === 0) {
        const line = getters.map(({ name, progress: p }) => {
          const percent = p.pieces ? Math.floor((100 * p.verified) / p.pieces) : 0;
          return `${name} ${percent}% ${p.done ? 'done' : formatRate(p.rate)}`;
        });
        log(line.join('  |  '));
      }
    };
    const progressTimer = setInterval(showProgress, 200);
    try {
      await Promise.all(getters.map((g) => g.process.waitForEvent('done', DEMO_TIMEOUT_MS)));
    } finally {
      clearInterval(progressTimer);
      showProgress();
      bars?.stop();
      bars = undefined;
    }
    const transferMs = Date.now() - transferStart;
    log(
      pc.green(
        `all ${getterCount} getters verified every piece in ${(transferMs / 1000).toFixed(1)} s`,
      ),
    );

    // Stop the getters and the seeder cleanly (SIGINT): each reports what it exchanged.
    for (const g of getters) {
      const exit = await g.process.stop('SIGINT');
      if (exit.code !== 0) throw new Error(`${g.name} exited with ${exit.code ?? exit.signal}`);
    }
    const seederExit = await seeder.stop('SIGINT');
    if (seederExit.code !== 0)
      throw new Error(`the seeder exited with ${seederExit.code ?? seederExit.signal}`);
    const seederStopped = seeder.events.find((e) => e.event === 'stopped');

    // Verify each copy against the original.
    log('');
    log(pc.bold('verification (whole file, against the original)'));
    let allGood = true;
    for (const g of getters) {
      const copy = await digestsOf(join(g.out, 'demo.bin'));
      const ok = copy.sha1 === original.sha1 && copy.sha256 === original.sha256;
      allGood &&= ok;
      log(
        `  ${g.name}: sha1 ${copy.sha1.slice(0, 16)}… sha256 ${copy.sha256.slice(0, 16)}… ${ok ? pc.green('identical') : pc.red('DIFFERENT')}`,
      );
    }

    // Summary: the verified pieces each getter got whole from each peer, and how many had blocks
    // from several peers (the session names every piece's contributors).
    const totalsOf = (p: CliProcess) =>
      (p.events.find((e) => e.event === 'stopped')?.peerTotals ?? {}) as Totals;
    const views: View[] = [
      { name: 'seeder', port: Number(seedListening.port), totals: totalsOf(seeder) },
      ...getters.map((g) => ({ name: g.name, port: portOf(g), totals: totalsOf(g.process) })),
    ];
    log('');
    log(pc.bold('summary'));
    for (const g of getters) {
      const done = g.progress.done as CliEvent & { elapsedMs: number; downloaded: number };
      const self = views.find((v) => v.name === g.name)!;
      const from = Object.entries(self.totals)
        .filter(([, t]) => t.pieces > 0)
        .sort((a, b) => b[1].pieces - a[1].pieces)
        .map(([a, t]) => `${nameOf(views, a)} ${t.pieces}`)
        .join(', ');
      const whole = Object.values(self.totals).reduce((n, t) => n + t.pieces, 0);
      const shared = g.progress.pieces - Number(done.resumed ?? 0) - whole;
      const rate = formatRate((done.downloaded * 1000) / Math.max(1, done.elapsedMs));
      log(
        `  ${g.name}: ${formatBytes(done.downloaded)} in ${(done.elapsedMs / 1000).toFixed(1)} s (${rate}); pieces from ${from || '-'}${shared > 0 ? `; ${shared} from several peers` : ''}`,
      );
    }
    // What the tracker told each getter (BEP 15 over UDP): the peers of its first answer.
    for (const g of getters) {
      const answers = g.process.events.filter((e) => e.event === 'tracker');
      const told = answers.map((e) => `${e.announce ?? 'regular'} (${e.peers} peer(s))`);
      log(`  ${g.name}: tracker answered ${told.join(', ') || 'nothing'}`);
    }
    const seedUploaded = Number(seederStopped?.uploaded ?? 0);
    log(
      `  seeder: uploaded ${formatBytes(seedUploaded)} (${(seedUploaded / (sizeMiB * MIB)).toFixed(2)} copies; the getters exchanged the rest among themselves)`,
    );

    for (const step of laterSteps) {
      log('');
      log(pc.bold(step.title));
      await step.run({ cli, bootstrap, work, log });
    }

    await tracker.stop('SIGINT');
    await dht.stop('SIGINT');
    log('');
    log(
      `stopped ${processes.length} processes; total ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return allGood ? 0 : 1;
  } catch (error) {
    bars?.stop();
    log(pc.red(`demo failed: ${error instanceof Error ? error.message : String(error)}`));
    for (const p of processes) {
      if (p.stderr.trim() !== '')
        log(pc.dim(`  pid ${p.pid} stderr: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`));
    }
    return 1;
  } finally {
    clearTimeout(deadline);
    await Promise.all(processes.map((p) => p.stop('SIGINT', 3_000)));
    await rm(work, { recursive: true, force: true });
  }
}

void runDemo().then((code) => process.exit(code));
