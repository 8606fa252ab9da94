/**
 * Which files `get` and `stream` download: `--select 1,3-5` (file indices counted from 1 in the
 * torrent's file order, as aria2's `--select-file` and `peerkit-share info` show them),
 * `--exclude GLOB` (repeatable) and `--priority LEVEL:INDICES` (repeatable; LEVEL is `high`,
 * `normal` or `skip`). Applied in that order: the selection (default every file), then the
 * exclusions, then the priorities. Without any of them a magnet's BEP 53 `so=` decides
 * (piece-exchange). The result is a function of the files, resolved when they are known (at
 * once for a .torrent, after the metadata for a magnet).
 */
import { type FilePriority, isFilePriority, type LayoutFileInput } from '@peerkit/piece-exchange';
import type { Command } from 'commander';
import { CliError } from './errors';

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Adds `--select`, `--exclude` and `--priority` (`get` and `stream`). */
export function addSelectionOptions(command: Command): Command {
  return command
    .option(
      '--select <indices>',
      'download only these files, counted from 1 as `info` lists them, e.g. 1,3-5 (repeatable)',
      collect,
    )
    .option(
      '--exclude <glob>',
      'skip files whose name (or path, with a /) matches (repeatable)',
      collect,
    )
    .option(
      '--priority <level:indices>',
      'file priority: high, normal or skip, e.g. high:2 or skip:4-6 (repeatable)',
      collect,
    );
}

export interface FileSelectionFlags {
  /** `--select` lists, e.g. `1,3-5`. */
  select?: readonly string[];
  /** `--exclude` globs. */
  exclude?: readonly string[];
  /** `--priority` specs, e.g. `high:2` or `skip:4-6`. */
  priority?: readonly string[];
}

/** Indices counted from 1 (`1,3-5`) as a sorted list of indices counted from 0. */
export function parseIndexList(text: string, flag: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const start = m ? Number(m[1]) : Number.NaN;
    const end = m?.[2] !== undefined ? Number(m[2]) : start;
    if (!m || start < 1 || end < start || end > 1_000_000) {
      throw new CliError(
        'INVALID_OPTION',
        `${flag}: ${JSON.stringify(part)} is not a file index or range (counted from 1, e.g. 1,3-5)`,
      );
    }
    for (let i = start; i <= end; i++) out.add(i - 1);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * A glob as a regular expression: `*` any characters but `/`, `**` any characters, `?` one
 * character but `/`, `[...]` a character class; everything else literal. A glob without `/`
 * is matched against file names, one with `/` against paths inside the torrent.
 */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        source += '.*';
        i++;
      } else source += '[^/]*';
    } else if (c === '?') source += '[^/]';
    else if (c === '[') {
      const close = glob.indexOf(']', i + 1);
      if (close < 0) source += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/\\/g, '\\\\');
        source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(`^${source}$`, 'u');
  } catch {
    throw new CliError('INVALID_OPTION', `--exclude: ${JSON.stringify(glob)} is not a valid glob`);
  }
}

/** True when the selection flags say anything (else a magnet's `so=` applies). */
export function hasSelection(flags: FileSelectionFlags): boolean {
  return (
    (flags.select?.length ?? 0) + (flags.exclude?.length ?? 0) + (flags.priority?.length ?? 0) > 0
  );
}

/** Checks the flags' syntax now (a usage error before anything starts). */
export function checkSelectionFlags(flags: FileSelectionFlags): void {
  for (const text of flags.select ?? []) parseIndexList(text, '--select');
  for (const spec of flags.priority ?? []) parsePrioritySpec(spec);
  for (const glob of flags.exclude ?? []) globToRegExp(glob);
}

function parsePrioritySpec(spec: string): { level: FilePriority; indices: number[] } {
  const at = spec.indexOf(':');
  const level = spec.slice(0, at);
  if (at < 0 || !isFilePriority(level)) {
    throw new CliError(
      'INVALID_OPTION',
      `--priority: ${JSON.stringify(spec)} is not LEVEL:INDICES (LEVEL high, normal or skip; e.g. high:2)`,
    );
  }
  return { level, indices: parseIndexList(spec.slice(at + 1), '--priority') };
}

/** The path of a file inside the torrent (without the torrent's name for a multi-file one). */
function innerPath(file: LayoutFileInput, multi: boolean): string {
  return (multi ? file.path.slice(1) : file.path).join('/');
}

/** Each file's priority from the flags; throws `CliError` for an index past the last file. */
export function filePrioritiesFor(
  flags: FileSelectionFlags,
  files: readonly LayoutFileInput[],
): FilePriority[] {
  const count = files.length;
  const check = (indices: number[], flag: string) => {
    const bad = indices.find((i) => i >= count);
    if (bad !== undefined) {
      throw new CliError(
        'INVALID_OPTION',
        `${flag}: there is no file ${bad + 1} (the torrent has ${count} files; see peerkit-share info)`,
      );
    }
    return indices;
  };
  const out = new Array<FilePriority>(count).fill(
    (flags.select?.length ?? 0) > 0 ? 'skip' : 'normal',
  );
  for (const text of flags.select ?? [])
    for (const i of check(parseIndexList(text, '--select'), '--select')) out[i] = 'normal';
  const multi = count > 1 || (files[0]?.path.length ?? 0) > 1;
  for (const glob of flags.exclude ?? []) {
    const re = globToRegExp(glob);
    const byName = !glob.includes('/');
    for (const [i, f] of files.entries()) {
      const path = innerPath(f, multi);
      if (re.test(byName ? (f.path.at(-1) ?? '') : path)) out[i] = 'skip';
    }
  }
  for (const spec of flags.priority ?? []) {
    const { level, indices } = parsePrioritySpec(spec);
    for (const i of check(indices, '--priority')) out[i] = level;
  }
  // BEP 47 padding files hold zeros and are never written: whatever the flags say.
  for (const [i, f] of files.entries()) if (f.padding) out[i] = 'skip';
  if (out.every((p) => p === 'skip')) {
    throw new CliError('INVALID_OPTION', 'the selection leaves no file to download');
  }
  return out;
}
