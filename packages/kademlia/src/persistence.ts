/**
 * Saving and loading a node's routing table (id and known nodes) as JSON, so a restarted node
 * re-bootstraps from the nodes it knew instead of a fixed bootstrap list.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Contact } from './compact';
import { DHTError } from './errors';
import { ipToBytes } from './ip';
import { fromHex, ID_LENGTH, type NodeId } from './node-id';

/** A saved node: ids in hex, addresses as text. */
export interface DHTState {
  id: string;
  nodes: { id: string; host: string; port: number }[];
}

/** Validates a state object; throws `DHTError` `INVALID_STATE`. */
export function parseState(state: unknown): { id: NodeId; nodes: Contact[] } {
  const bad = (why: string) => new DHTError('INVALID_STATE', `invalid DHT state: ${why}`);
  if (typeof state !== 'object' || state === null) throw bad('not an object');
  const s = state as { id?: unknown; nodes?: unknown };
  const hexId = (v: unknown): NodeId => {
    if (typeof v !== 'string' || v.length !== ID_LENGTH * 2)
      throw bad('id must be 40 hex characters');
    try {
      return fromHex(v);
    } catch {
      throw bad('id must be 40 hex characters');
    }
  };
  const id = hexId(s.id);
  if (!Array.isArray(s.nodes)) throw bad('nodes must be a list');
  const nodes: Contact[] = s.nodes.slice(0, 10_000).map((n: unknown) => {
    const e = n as { id?: unknown; host?: unknown; port?: unknown };
    if (typeof e?.host !== 'string' || !ipToBytes(e.host)) throw bad('node host must be an IP');
    if (typeof e.port !== 'number' || !Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
      throw bad('node port out of range');
    }
    return { id: hexId(e.id), address: { host: e.host, port: e.port } };
  });
  return { id, nodes };
}

/** Writes a state to `path` atomically (temp file + rename). */
export async function saveState(path: string, state: DHTState): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 1)}\n`);
  await rename(tmp, path);
}

/** Reads a state saved by `saveState`; `undefined` when the file does not exist. */
export async function loadState(path: string): Promise<DHTState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw new DHTError('INVALID_STATE', `cannot read ${path}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DHTError('INVALID_STATE', `${path} is not JSON`, { cause: e });
  }
  parseState(json);
  return json as DHTState;
}
