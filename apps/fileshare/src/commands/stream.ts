/**
 * `peerkit-share stream <magnet | file.torrent | info-hash> [--file N] --port P`: download a
 * torrent as `get` does, and serve one of its files over HTTP on 127.0.0.1:P while it downloads,
 * with range requests, so that a player (`mpv http://127.0.0.1:P/`) can start at once and seek:
 * the pieces under its read position are fetched first (piece-exchange's read streams), the rest
 * of the torrent keeps downloading around them. The streamed file gets `high` priority; the
 * others follow `--select` / `--exclude` / `--priority` (default: every file).
 */
import type { FilePriority } from '@peerkit/piece-exchange';
import { CliError, describeError } from '../errors';
import { type FileSelectionFlags, filePrioritiesFor } from '../file-selection';
import { largestFile, type StreamServer, startStreamServer } from '../http-stream';
import type { ShareNode } from '../node';
import { type GetOptions, runGet } from './get';

export interface StreamOptions extends Omit<GetOptions, 'filePriorities'> {
  /** File to serve, counted from 0 (default: the largest). */
  file?: number;
  /** HTTP port on 127.0.0.1 (0: any free port). */
  httpPort: number;
  /** HTTP address (default 127.0.0.1; loopback only). */
  httpHost?: string;
  selection?: FileSelectionFlags;
}

export interface RunningStream {
  readonly node: ShareNode;
  readonly server: StreamServer;
}

/** Starts the HTTP server (failing fast when its port is taken), then the download. */
export async function runStream(options: StreamOptions): Promise<RunningStream> {
  const host = options.httpHost ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== '::1' && host !== 'localhost') {
    throw new CliError('INVALID_OPTION', `stream serves on loopback only, not ${host}`);
  }
  const holder: { node?: ShareNode } = {};
  const server = await startStreamServer({
    torrent: {
      get info() {
        return holder.node?.torrent.info;
      },
      createReadStream: (file, range) => holder.node!.torrent.createReadStream(file, range),
    },
    ...(options.file !== undefined ? { file: options.file } : {}),
    host,
    port: options.httpPort,
  }).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    throw new CliError(
      code === 'EADDRINUSE' ? 'PORT_IN_USE' : 'INVALID_OPTION',
      `cannot serve HTTP on ${host}:${options.httpPort} (--port): ${describeError(error)}`,
      { cause: error },
    );
  });
  const filePriorities = (files: Parameters<typeof largestFile>[0]): FilePriority[] => {
    const file = options.file ?? largestFile(files);
    if (file >= files.length || files[file]!.padding) {
      throw new CliError(
        'INVALID_OPTION',
        `--file: there is no file ${file + 1} (the torrent has ${files.length} files; see peerkit-share info)`,
      );
    }
    const priorities = filePrioritiesForStream(options.selection ?? {}, files);
    priorities[file] = 'high';
    return priorities;
  };
  try {
    holder.node = await runGet({ ...options, filePriorities });
  } catch (error) {
    await server.close();
    throw error;
  }
  return { node: holder.node, server };
}

/** The selection flags' priorities, where leaving no file is fine (the streamed one is added). */
function filePrioritiesForStream(
  flags: FileSelectionFlags,
  files: Parameters<typeof largestFile>[0],
): FilePriority[] {
  try {
    return filePrioritiesFor(flags, files);
  } catch (error) {
    if (error instanceof CliError && /leaves no file/.test(error.message)) {
      return files.map((): FilePriority => 'skip');
    }
    throw error;
  }
}
