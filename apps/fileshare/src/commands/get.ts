/**
 * `peerkit-share get <magnet | file.torrent | info-hash>`: find peers (DHT, `--peer`, a magnet's
 * `x.pe`), fetch the info dictionary if needed (BEP 9), download and verify every piece, then
 * keep seeding. Resume data in the state directory makes a restart skip verified pieces.
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { prioritiesFromSelectOnly, torrentInfoFromMetainfo } from '@peerkit/piece-exchange';
import { CliError, describeError } from '../errors';
import { magnetPeers, readTarget, type Target } from '../input';
import { type ShareNode, type ShareNodeOptions, startShareNode } from '../node';
import { writeAtomic } from '../state-dir';

export interface GetOptions
  extends Omit<ShareNodeOptions, 'info' | 'infoHash' | 'directory' | 'displayName'> {
  /** A magnet link, a .torrent path or an info-hash, or one already read with `readTarget`. */
  target: string | Target;
  /** Download directory (default: the current directory). */
  out?: string;
}

// A disk error while downloading ends `get` with one line (a rerun resumes); seeding retries.

/** Starts fetching; resolves with the running node (`whenDone()` resolves once all is verified). */
export async function runGet(options: GetOptions): Promise<ShareNode> {
  const target =
    typeof options.target === 'string' ? await readTarget(options.target) : options.target;
  const directory = resolve(options.out ?? '.');
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw new CliError('MISSING_PATH', `cannot create ${directory}: ${describeError(error)}`, {
      cause: error,
    });
  }
  const peers = [...(options.peers ?? [])];
  const base = { failOnStorageError: true, ...options, directory, peers };
  switch (target.kind) {
    case 'torrent': {
      const info = torrentInfoFromMetainfo(target.metainfo);
      const hex = Buffer.from(info.infoHash).toString('hex');
      await writeAtomic(options.state.torrentPath(hex), target.bytes);
      return startShareNode({
        ...base,
        info,
        trackers: [...(options.trackers ?? []), ...target.metainfo.announce],
        dht: target.metainfo.private ? false : options.dht,
      });
    }
    case 'magnet': {
      peers.push(...(await magnetPeers(target.magnet.peers)));
      // BEP 53: without selection flags, the magnet's `so=` says which files to download.
      const selectOnly = target.magnet.selectOnly;
      const so =
        options.filePriorities === undefined && selectOnly !== undefined && selectOnly.length > 0
          ? {
              filePriorities: (files: readonly unknown[]) =>
                prioritiesFromSelectOnly(files.length, selectOnly),
            }
          : {};
      return startShareNode({
        ...base,
        ...so,
        infoHash: target.infoHash,
        ...(target.magnet.infoHashV2 ? { infoHashV2: target.magnet.infoHashV2 } : {}),
        trackers: [...(options.trackers ?? []), ...target.magnet.trackers],
        ...(target.magnet.name !== undefined ? { displayName: target.magnet.name } : {}),
      });
    }
    case 'info-hash':
      return startShareNode({ ...base, infoHash: target.infoHash });
  }
}
