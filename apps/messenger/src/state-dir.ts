/**
 * The state directory: the identity key (mode 0600), the profile (nickname), the saved DHT
 * routing table and the room histories. Everything here is plain file I/O at the edge; the
 * node itself never touches the file system.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { decodeIdentity, encodeIdentity, generateIdentity, type Identity } from '@peerkit/noise';
import { ChatError } from './errors';

export const IDENTITY_FILE = 'identity.key';
const PROFILE_FILE = 'profile.json';

/** `$PEERKIT_CHAT_HOME`, else `~/.peerkit-chat`. */
export function defaultStateDir(): string {
  return process.env.PEERKIT_CHAT_HOME ?? join(homedir(), '.peerkit-chat');
}

async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * Loads the identity from `<dir>/identity.key` (64 bytes: Ed25519 seed || public key). Refuses
 * a key file that others can read (like ssh). Returns undefined when there is none.
 */
export async function loadIdentity(dir: string): Promise<Identity | undefined> {
  const path = join(dir, IDENTITY_FILE);
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new ChatError(
        'BAD_STATE',
        `${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    bytes = await readFile(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error instanceof ChatError
      ? error
      : new ChatError('BAD_STATE', `cannot read ${path}`, { cause: error });
  }
  try {
    return decodeIdentity(new Uint8Array(bytes));
  } catch (error) {
    throw new ChatError('BAD_STATE', `${path} is not a peerkit-chat identity key`, {
      cause: error,
    });
  }
}

/**
 * Creates a new identity in `dir` (mode 0600). An existing key is kept as `identity.key.old`,
 * so `id --new` never silently destroys a key.
 */
export async function createIdentity(dir: string): Promise<Identity> {
  await ensureDir(dir);
  const path = join(dir, IDENTITY_FILE);
  try {
    await rename(path, `${path}.old`);
  } catch (error) {
    if (!isMissing(error))
      throw new ChatError('BAD_STATE', `cannot move ${path}`, { cause: error });
  }
  const identity = generateIdentity();
  await writeFile(path, encodeIdentity(identity), { mode: 0o600, flag: 'wx' });
  await chmod(path, 0o600); // in case the umask or an existing file interfered
  return identity;
}

/** The identity in `dir`, created on first use. */
export async function loadOrCreateIdentity(
  dir: string,
): Promise<{ identity: Identity; created: boolean }> {
  const existing = await loadIdentity(dir);
  if (existing) return { identity: existing, created: false };
  return { identity: await createIdentity(dir), created: true };
}

export interface Profile {
  nick?: string;
}

export async function loadProfile(dir: string): Promise<Profile> {
  try {
    const value: unknown = JSON.parse(await readFile(join(dir, PROFILE_FILE), 'utf8'));
    if (value && typeof value === 'object' && 'nick' in value && typeof value.nick === 'string') {
      return { nick: value.nick };
    }
    return {};
  } catch (error) {
    if (isMissing(error)) return {};
    throw new ChatError('BAD_STATE', `cannot read ${join(dir, PROFILE_FILE)}`, { cause: error });
  }
}

export async function saveProfile(dir: string, profile: Profile): Promise<void> {
  await writeStateFile(dir, PROFILE_FILE, `${JSON.stringify(profile)}\n`);
}

/** Reads a file of the state dir, or undefined when it does not exist. */
export async function readStateFile(dir: string, name: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(join(dir, name)));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw new ChatError('BAD_STATE', `cannot read ${join(dir, name)}`, { cause: error });
  }
}

/**
 * Writes a file of the state dir atomically (temp file + rename), mode 0600. Each write has its
 * own temporary name (`wx`: never an existing file), so two writes of the same file at once
 * cannot rename each other's temporary file away; the last rename wins whole.
 */
export async function writeStateFile(dir: string, name: string, data: Uint8Array | string) {
  const path = join(dir, name);
  await ensureDir(dirname(path));
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
