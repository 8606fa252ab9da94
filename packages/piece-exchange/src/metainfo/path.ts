/**
 * Path sanitising for file names taken from a torrent, following libtorrent's rules on POSIX
 * (its vectors record the results), so that no torrent can write outside its directory:
 * - invalid UTF-8 is replaced by `_` (one per invalid sequence);
 * - `/` and `\` and the bidirectional-override characters U+200E, U+200F, U+202A..U+202E are
 *   dropped, as are C0 control characters (NUL..U+001F);
 * - an element that is then `.` or `..` is skipped; an element that is then empty becomes `_`;
 * - an element longer than 240 characters is cut to 240, keeping its extension.
 */

const utf8 = new TextDecoder('utf-8');
const MAX_ELEMENT_CHARS = 240;

/** The element's text with invalid UTF-8 replaced and dropped characters removed (may be empty). */
export function cleanPathText(raw: Uint8Array | string): string {
  const decoded = typeof raw === 'string' ? raw : utf8.decode(raw);
  let text = '';
  for (const char of decoded) {
    if (char === '\ufffd') text += '_';
    else if (!isDroppedPathCharacter(char.codePointAt(0)!)) text += char;
  }
  return text;
}

/** `/`, `\`, C0 controls and the bidirectional overrides U+200E, U+200F, U+202A..U+202E. */
export function isDroppedPathCharacter(codePoint: number): boolean {
  return (
    codePoint < 0x20 ||
    codePoint === 0x2f ||
    codePoint === 0x5c ||
    codePoint === 0x200e ||
    codePoint === 0x200f ||
    (codePoint >= 0x202a && codePoint <= 0x202e)
  );
}

/** The sanitised element, or `undefined` when it must be skipped (`.`, `..`). */
export function sanitizePathElement(raw: Uint8Array | string): string | undefined {
  let text = cleanPathText(raw);
  if (text === '.' || text === '..') return undefined;
  if (text === '') return '_';
  const chars = Array.from(text);
  if (chars.length > MAX_ELEMENT_CHARS) {
    const dot = text.lastIndexOf('.');
    const extension = dot > 0 && text.length - dot <= 16 ? Array.from(text.slice(dot)) : [];
    text = [...chars.slice(0, MAX_ELEMENT_CHARS - extension.length), ...extension].join('');
  }
  return text;
}

/** Sanitises a list of raw path elements (skipped elements left out). */
export function sanitizePath(raw: readonly (Uint8Array | string)[]): string[] {
  const out: string[] = [];
  for (const element of raw) {
    const clean = sanitizePathElement(element);
    if (clean !== undefined) out.push(clean);
  }
  return out;
}

/**
 * Renames files whose full path repeats an earlier one (libtorrent: `bar.txt` → `bar.1.txt`),
 * in place. Padding files are left alone.
 */
export function renameDuplicates(files: { path: string[]; padding: boolean }[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (file.padding) continue;
    let key = file.path.join('/');
    if (seen.has(key)) {
      const last = file.path[file.path.length - 1] ?? '_';
      const dot = last.lastIndexOf('.');
      const stem = dot > 0 ? last.slice(0, dot) : last;
      const extension = dot > 0 ? last.slice(dot) : '';
      for (let n = 1; ; n++) {
        const candidate = [...file.path.slice(0, -1), `${stem}.${n}${extension}`];
        if (!seen.has(candidate.join('/'))) {
          file.path = candidate;
          key = candidate.join('/');
          break;
        }
      }
    }
    seen.add(key);
  }
}
