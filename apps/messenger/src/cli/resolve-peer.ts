/**
 * Resolving what a user typed after `/dm` to a peer: a full peer id, a unique prefix (at least
 * 4 characters) of a peer id we know, or a nickname seen in a signed message.
 */
import { ChatError } from '../errors';
import { isPeerId, PEER_ID_LENGTH, parsePeerId } from '../peer-id';

export function resolvePeer(text: string, known: { id: string; nick?: string }[]): Uint8Array {
  const t = text.trim();
  if (t.length === PEER_ID_LENGTH || isPeerId(t)) return parsePeerId(t);
  const lower = t.toLowerCase();
  const byPrefix = lower.length >= 4 ? known.filter((p) => p.id.startsWith(lower)) : [];
  const byNick = known.filter((p) => p.nick === t);
  const matches = new Map<string, string>();
  for (const p of [...byPrefix, ...byNick]) matches.set(p.id, p.id);
  if (matches.size === 1) return parsePeerId([...matches.keys()][0] as string);
  if (matches.size > 1) {
    throw new ChatError('BAD_PEER_ID', `'${t}' matches ${matches.size} peers; use more of the id`);
  }
  throw new ChatError(
    'BAD_PEER_ID',
    `unknown peer '${t}': give a full peer id (${PEER_ID_LENGTH} characters), or a nick or id prefix of a peer you have seen`,
  );
}
