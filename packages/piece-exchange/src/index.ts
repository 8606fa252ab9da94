// --- errors, bitfield, peer wire (metainfo/magnet/wire session) ---

export { Bitfield, byteLengthFor } from './bitfield';
export * from './errors';
export * from './magnet';
export * from './metainfo/create';
export * from './metainfo/fs';
export * from './metainfo/parse';
export type * from './metainfo/types';
export * from './wire/allowed-fast';
export * from './wire/compact';
export * from './wire/decoder';
export * from './wire/extension';
export * from './wire/handshake';
export * from './wire/messages';
export * from './wire/metadata';
export * from './wire/pex';

// --- end errors, bitfield, peer wire ---

// --- picker, choker, storage, peer session, torrent ---
export * from './choker';
export * from './picker';
export { Peer } from './session/peer';
export * from './session/peer-error';
export * from './session/peer-host';
export { RateMeter } from './session/rate';
export { diskName, diskPaths, MAX_NAME_BYTES, type PathRules } from './storage/disk-paths';
export * from './storage/file-system';
export * from './storage/layout';
export { acquireLock, type LockHolder, type StorageLock } from './storage/lock';
export * from './storage/piece-store';
export * from './storage/resume';
export { type ExistingFilePolicy, type StartOptions, verifiedAtStart } from './storage/start';
export * from './storage/storage-error';
export * from './torrent';
export * from './torrent-options';
// --- end picker, choker, storage, peer session, torrent ---
