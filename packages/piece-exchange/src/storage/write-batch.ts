/**
 * Verified pieces on their way to disk, batched per file (issue #22): while a write to a file is
 * in flight, the ranges queued behind it wait, and once it returns they all go in the next round,
 * adjacent ranges merged into one gathered write (`writev`), even across piece boundaries. With
 * 16 KiB pieces this turns one write (and one `fstat`) per piece into one per batch, and the
 * batches grow with the disk's latency by themselves: no timer, no fixed size to tune. A failed
 * round fails the writes queued behind it too.
 */
import type { StorageFile } from './file-system';
import type { FileLayout } from './layout';

/** Most buffers in one gathered write (IOV_MAX on Linux is 1024). */
const MAX_BUFFERS = 1024;
/** Most bytes in one gathered write. */
const MAX_BYTES = 8 * 1024 * 1024;

interface Pending {
  position: number;
  buffers: Uint8Array[];
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriteBatchHooks {
  /** Runs `fn` on file `index`, open for writing. */
  withFile(index: number, fn: (file: StorageFile) => Promise<void>): Promise<void>;
  /** After each round of writes to a file (e.g. to record its new stamp). */
  written(index: number, file: StorageFile): Promise<void>;
}

export class WriteBatches {
  private readonly queues = new Map<number, Pending[]>();

  constructor(private readonly hooks: WriteBatchHooks) {}

  /** Writes `buffers` back to back at `position` of file `index`; resolves once on disk. */
  write(index: number, position: number, buffers: Uint8Array[]): Promise<void> {
    let bytes = 0;
    for (const b of buffers) bytes += b.length;
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { position, buffers, bytes, resolve, reject };
      const queue = this.queues.get(index);
      if (queue !== undefined) {
        queue.push(pending); // a round is running: this goes in the next one
        return;
      }
      this.queues.set(index, [pending]);
      void this.drain(index);
    });
  }

  /** Writes rounds to file `index` until nothing is queued for it. */
  private async drain(index: number): Promise<void> {
    const queue = this.queues.get(index)!;
    while (queue.length > 0) {
      const round = queue.splice(0).sort((a, b) => a.position - b.position);
      try {
        await this.hooks.withFile(index, async (file) => {
          for (const run of runs(round)) await writeRun(file, run);
          await this.hooks.written(index, file);
        });
        for (const p of round) p.resolve();
      } catch (error) {
        // The disk failed: what is queued behind fails with it, at once, as concurrent writes
        // would have (the session pauses once, not again for each later round).
        for (const p of [...round, ...queue.splice(0)]) p.reject(error);
      }
    }
    this.queues.delete(index);
  }
}

/** Adjacent ranges of a sorted round, grouped into gathered writes. */
function runs(round: Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let run: Pending[] = [];
  let end = -1;
  let buffers = 0;
  let bytes = 0;
  for (const p of round) {
    const fits =
      p.position === end &&
      buffers + p.buffers.length <= MAX_BUFFERS &&
      bytes + p.bytes <= MAX_BYTES;
    if (!fits && run.length > 0) {
      out.push(run);
      run = [];
      buffers = 0;
      bytes = 0;
    }
    run.push(p);
    end = p.position + p.bytes;
    buffers += p.buffers.length;
    bytes += p.bytes;
  }
  if (run.length > 0) out.push(run);
  return out;
}

function writeRun(file: StorageFile, run: Pending[]): Promise<void> {
  const buffers = run.length === 1 ? run[0]!.buffers : run.flatMap((p) => p.buffers);
  const position = run[0]!.position;
  return buffers.length === 1 ? file.write(buffers[0]!, position) : file.writev(buffers, position);
}

/** Consecutive bytes of one file, to be written with one gathered write. */
export interface FileRun {
  readonly file: number;
  readonly position: number;
  end: number;
  readonly buffers: Uint8Array[];
}

/**
 * Lays sorted blocks of piece `piece` out on the files: consecutive ranges of the same file
 * become one run (BEP 47 padding files are skipped: their zeros are never written).
 */
export function fileRuns(
  layout: FileLayout,
  piece: number,
  blocks: readonly (readonly [number, Uint8Array])[],
): FileRun[] {
  const runs: FileRun[] = [];
  let run: FileRun | undefined;
  for (const [offset, block] of blocks) {
    for (const s of layout.segments(piece, offset, block.length)) {
      if (layout.files[s.file]!.padding) continue;
      const part = block.subarray(s.at, s.at + s.length);
      if (run !== undefined && run.file === s.file && run.end === s.position) {
        run.buffers.push(part);
        run.end += s.length;
      } else {
        run = { file: s.file, position: s.position, end: s.position + s.length, buffers: [part] };
        runs.push(run);
      }
    }
  }
  return runs;
}
