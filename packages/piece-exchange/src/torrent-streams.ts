/**
 * A torrent's file selection and streams at run time: the `FileSelection` (./torrent-selection.ts)
 * that `Torrent.setFilePriorities` and `Torrent.select` change, and the `StreamHub` (./stream.ts)
 * behind `Torrent.createReadStream`, where reading a skipped file selects it first.
 */
import type { Readable } from 'node:stream';
import { PieceExchangeError } from './errors';
import type { FilePriority } from './file-priorities';
import type { Content } from './session/peer-host';
import type { PeerSession } from './session/peer-session';
import { type FileReadOptions, StreamHub } from './stream';
import { type FileSelection, selectedPriorities } from './torrent-selection';

/** What the streams need from the torrent. */
export interface TorrentStreamsHost {
  now(): number;
  peers(): Iterable<PeerSession>;
  /** Changes the file priorities through the torrent (`Torrent.setFilePriorities`). */
  setFilePriorities(priorities: readonly FilePriority[]): Promise<void>;
}

export class TorrentStreams {
  #content: Content | undefined;
  #selection: FileSelection | undefined;
  readonly #hub: StreamHub;

  constructor(host: TorrentStreamsHost) {
    this.#hub = new StreamHub({
      now: () => host.now(),
      select: async (file) => {
        const priorities = this.#selection?.priorities ?? [];
        if (priorities[file] === 'skip')
          await host.setFilePriorities(priorities.map((p, i) => (i === file ? 'normal' : p)));
      },
      refill: () => {
        for (const p of host.peers()) p.fillRequests();
      },
    });
  }

  /** Each file's priority, once the content is known. */
  get priorities(): readonly FilePriority[] | undefined {
    return this.#selection?.priorities;
  }

  /** The content became known (at open, or a magnet's metadata arrived). */
  contentReady(content: Content, selection: FileSelection): void {
    this.#content = content;
    this.#selection = selection;
    this.#hub.contentReady(content);
  }

  /** New file priorities, applied to the picker; the content must be known. */
  async change(priorities: readonly FilePriority[]): Promise<void> {
    const content = this.#content;
    const selection = this.#selection;
    if (content === undefined || selection === undefined) {
      throw new PieceExchangeError('NO_METADATA', 'the torrent content is not known yet');
    }
    await selection.change(content, priorities);
  }

  /** The priorities that download only the files `indices` (./torrent-selection.ts). */
  selected(indices: Iterable<number>): FilePriority[] {
    return selectedPriorities(this.#selection?.priorities ?? [], indices);
  }

  createReadStream(file: number, options?: FileReadOptions): Readable {
    return this.#hub.createReadStream(file, options);
  }

  pieceVerified(piece: number): void {
    this.#hub.pieceVerified(piece);
  }

  close(): void {
    this.#hub.close();
  }
}
