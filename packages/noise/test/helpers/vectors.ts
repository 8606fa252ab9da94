/** Loads the Noise test vectors from ../shared/vectors/noise (read in place, never copied). */
import { readFileSync } from 'node:fs';

export interface NoiseVector {
  source: string;
  protocolName: string;
  initPrologue: string;
  initStatic?: string;
  initEphemeral: string;
  initRemoteStatic?: string;
  respPrologue: string;
  respStatic?: string;
  respEphemeral: string;
  respRemoteStatic?: string;
  handshakeHash?: string;
  messages: { payload: string; ciphertext: string }[];
}

export const vectorsDir = process.env.PEERKIT_SHARED
  ? new URL(`file://${process.env.PEERKIT_SHARED}/vectors/noise/`)
  : new URL('../../../../../shared/vectors/noise/', import.meta.url);

type Raw = Record<string, unknown>;

function str(raw: Raw, key: string): string | undefined {
  const v = raw[key];
  return typeof v === 'string' ? v : undefined;
}

function toVector(raw: Raw, source: string): NoiseVector {
  const name = str(raw, 'protocol_name') ?? str(raw, 'name') ?? '';
  return {
    source,
    protocolName: name,
    initPrologue: str(raw, 'init_prologue') ?? '',
    initStatic: str(raw, 'init_static'),
    initEphemeral: str(raw, 'init_ephemeral') ?? '',
    initRemoteStatic: str(raw, 'init_remote_static'),
    respPrologue: str(raw, 'resp_prologue') ?? '',
    respStatic: str(raw, 'resp_static'),
    respEphemeral: str(raw, 'resp_ephemeral') ?? '',
    respRemoteStatic: str(raw, 'resp_remote_static'),
    handshakeHash: str(raw, 'handshake_hash'),
    messages: raw.messages as NoiseVector['messages'],
  };
}

/** Vectors of one file whose protocol name matches `accept`. */
export function loadVectors(
  file: string,
  accept: (protocolName: string) => boolean,
): NoiseVector[] {
  const doc = JSON.parse(readFileSync(new URL(file, vectorsDir), 'utf8')) as { vectors: Raw[] };
  const source = file.replace(/\.(txt|json)$/, '');
  return doc.vectors
    .map((raw) => toVector(raw, str(raw, '_source') ?? source))
    .filter((v) => accept(v.protocolName) && !('fail' in v));
}
