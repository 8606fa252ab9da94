/**
 * From a torrent's file paths to names a file system accepts, the same on every platform:
 *
 * - a name element is at most 255 bytes of UTF-8 (NAME_MAX on Linux and macOS; Windows counts
 *   255 UTF-16 units, which 255 bytes never exceed): a longer one is cut on a code point
 *   boundary keeping its extension, as libtorrent does, so 100 emoji (400 bytes) fit;
 * - characters Windows forbids (`<>:"|?*`) become `_`, and a Windows device name (`CON`,
 *   `NUL`, `COM1`, ...) or a name ending in a dot or a space gets a `_` (only with the `win32`
 *   rules, the default on Windows);
 * - two paths that differ only in letter case or Unicode normalisation are one path on macOS and
 *   Windows: they are a conflict everywhere, as is a file where another path needs a directory.
 *   A conflict is refused (`StorageError` `PATH_CONFLICT`), never resolved by overwriting.
 *
 * The metainfo parser already dropped `..`, separators, NUL and absolute paths (BEP 3 file
 * names are untrusted); `FileLayout` refuses any that would remain.
 */
import type { FileLayout } from './layout';
import { StorageError } from './storage-error';

/** Longest name element in bytes of UTF-8. */
export const MAX_NAME_BYTES = 255;

export type PathRules = 'posix' | 'win32';

const encoder = new TextEncoder();
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** Cuts `text` to at most `max` bytes of UTF-8 on a code point boundary. */
function cutToBytes(text: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const n = utf8Length(char);
    if (bytes + n > max) break;
    out += char;
    bytes += n;
  }
  return out;
}

/** One name element as stored on disk (see the module comment). */
export function diskName(element: string, rules: PathRules = 'posix'): string {
  let name = element;
  if (rules === 'win32') {
    name = name.replace(/[<>:"|?*]/g, '_');
    if (WINDOWS_DEVICE.test(name)) name = `_${name}`;
    if (/[. ]$/.test(name)) name = `${name}_`;
  }
  if (utf8Length(name) <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && utf8Length(name.slice(dot)) <= 16 ? name.slice(dot) : '';
  const stem = extension === '' ? name : name.slice(0, dot);
  return cutToBytes(stem, MAX_NAME_BYTES - utf8Length(extension)) + extension;
}

/** The key two names collide under: case-insensitive and normalisation-insensitive. */
export function foldName(name: string): string {
  return name.normalize('NFC').toLowerCase().normalize('NFC');
}

/**
 * Disk path elements of every file of `layout` (padding files included, they are never
 * written). Throws `StorageError` `PATH_CONFLICT` when two of them collide.
 */
export function diskPaths(layout: FileLayout, rules: PathRules = defaultRules()): string[][] {
  const paths = layout.files.map((f) => f.path.map((e) => diskName(e, rules)));
  // Every folded prefix: whether it is a file or a directory, and the path that made it.
  const seen = new Map<string, { file: boolean; shown: string }>();
  for (const [i, path] of paths.entries()) {
    if (layout.files[i]!.padding) continue;
    for (let depth = 1; depth <= path.length; depth++) {
      const file = depth === path.length;
      const shown = path.slice(0, depth).join('/');
      const key = path.slice(0, depth).map(foldName).join('/');
      const before = seen.get(key);
      if (before === undefined) {
        seen.set(key, { file, shown });
        continue;
      }
      if (!file && !before.file) continue; // two files in one directory
      const what =
        before.file && file
          ? before.shown === shown
            ? `"${shown}" appears twice`
            : `"${before.shown}" and "${shown}" are the same file name on macOS and Windows`
          : `"${before.file ? before.shown : shown}" is both a file and a directory`;
      throw new StorageError('PATH_CONFLICT', `the torrent's files conflict: ${what}`);
    }
  }
  return paths;
}

function defaultRules(): PathRules {
  return process.platform === 'win32' ? 'win32' : 'posix';
}
