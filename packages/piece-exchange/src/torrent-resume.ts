/**
 * When a torrent's resume data is read and written: at start (resume data checked against the
 * files, a full re-check, or the caller's word that the content is complete), at most every
 * `resumeIntervalMs` while downloading, once when the last piece is verified, and at close.
 * One save at a time; each copies the verified set, flushes the data, then writes
 * (`storage/resume.ts`).
 */
import { join } from 'node:path';
import type { Clock, Timer } from '@peerkit/transport';
import type { Bitfield } from './bitfield';
import type { Content } from './session/peer-host';
import type { FileSystem } from './storage/file-system';
import type { PieceStore } from './storage/piece-store';
import { type ResumeKey, saveResume } from './storage/resume';
import { verifiedAtStart } from './storage/start';
import type { TorrentInfo } from './torrent-info';
import { RESUME_INTERVAL_MS, type TorrentOptions } from './torrent-options';

type ResumeOptions = Pick<
  TorrentOptions,
  | 'directory'
  | 'resume'
  | 'recheck'
  | 'assumeComplete'
  | 'resumeIntervalMs'
  | 'existing'
  | 'onRecheck'
>;

export class ResumeSaver {
  readonly #fs: FileSystem;
  readonly #options: ResumeOptions;
  readonly #infoHash: Uint8Array;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  /** The torrent's hash kind and full info-hash, once its content is known (`initialPieces`). */
  #key: ResumeKey | undefined;
  #timer: Timer | undefined;
  #saving: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    fs: FileSystem,
    options: ResumeOptions,
    infoHash: Uint8Array,
    clock: Clock,
    onError: (error: unknown) => void,
  ) {
    this.#fs = fs;
    this.#options = options;
    this.#infoHash = infoHash;
    this.#clock = clock;
    this.#onError = onError;
  }

  /** Creates the files safely; resume data proven to match them, else a check (./storage/start.ts). */
  initialPieces(store: PieceStore, info?: TorrentInfo): Promise<Bitfield> {
    this.#key = info === undefined ? undefined : resumeKey(info);
    return verifiedAtStart(this.#fs, this.#path(), this.#key ?? this.#infoHash, store, {
      recheck: this.#options.recheck ?? false,
      assumeComplete: (this.#options.assumeComplete ?? false) && !this.#options.recheck,
      existing: this.#options.existing ?? 'verify',
      ...(this.#options.onRecheck !== undefined ? { onPiece: this.#options.onRecheck } : {}),
    });
  }

  /** Saves within `resumeIntervalMs` (one timer at a time). */
  schedule(content: Content): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.saveNow(content).catch(this.#onError);
    }, this.#options.resumeIntervalMs ?? RESUME_INTERVAL_MS);
  }

  /** Saves after any save under way. */
  saveNow(content: Content): Promise<void> {
    const path = this.#path();
    if (path === undefined) return Promise.resolve();
    this.#saving = this.#saving
      .catch(() => undefined)
      .then(() => {
        const key = this.#key ?? this.#infoHash;
        return saveResume(this.#fs, path, key, content.have, content.store);
      });
    return this.#saving;
  }

  /** Cancels the timer; resolves when the save under way (if any) has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#saving.catch(() => undefined);
  }

  #path(): string | undefined {
    const resume = this.#options.resume;
    if (resume === false) return undefined;
    if (typeof resume === 'string') return resume;
    const hex = Buffer.from(this.#infoHash).toString('hex');
    return join(this.#options.directory, '.peerkit', `${hex}.resume`);
  }
}

/** Which torrent resume data is for: BEP 52 hash kind and the full SHA-256 info-hash. */
export function resumeKey(info: TorrentInfo): ResumeKey {
  const { infoHash, v2 } = info;
  return v2 === undefined
    ? { infoHash, kind: 'v1' }
    : { infoHash, kind: v2.version, v2InfoHash: v2.infoHash };
}
