/**
 * Write tokens (BEP 5 "get_peers"/"announce_peer"): a token is a hash of the querier's IP with a
 * secret that changes every 5 minutes; tokens made with the current or the previous secret are
 * accepted, so a token stays valid for 5 to 10 minutes and only from the IP it was given to.
 * Rotation is lazy (checked against the Clock on each call), so there is no timer to close.
 */
import { createHash } from 'node:crypto';
import type { Clock, Random } from '@peerkit/transport';
import { ipToBytes } from './ip';

export const TOKEN_ROTATE_MS = 5 * 60 * 1000;
const TOKEN_BYTES = 8;
const SECRET_BYTES = 16;

export class TokenManager {
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly rotateMs: number;
  private current: Uint8Array;
  private previous: Uint8Array;
  private rotatedAt: number;

  constructor(clock: Clock, random: Random, rotateMs = TOKEN_ROTATE_MS) {
    this.clock = clock;
    this.random = random;
    this.rotateMs = rotateMs;
    this.current = random.bytes(SECRET_BYTES);
    this.previous = random.bytes(SECRET_BYTES);
    this.rotatedAt = clock.now();
  }

  /** The token for a querier at `host`. */
  issue(host: string): Uint8Array {
    this.rotate();
    return tokenFor(this.current, host);
  }

  /** Whether `token` was issued to `host` within the last two secret periods. */
  verify(token: Uint8Array, host: string): boolean {
    this.rotate();
    return (
      equal(token, tokenFor(this.current, host)) || equal(token, tokenFor(this.previous, host))
    );
  }

  private rotate(): void {
    const now = this.clock.now();
    if (now - this.rotatedAt < this.rotateMs) return;
    // After two or more idle periods both secrets are stale.
    const periods = Math.floor((now - this.rotatedAt) / this.rotateMs);
    this.previous = periods === 1 ? this.current : this.random.bytes(SECRET_BYTES);
    this.current = this.random.bytes(SECRET_BYTES);
    this.rotatedAt += periods * this.rotateMs;
  }
}

function tokenFor(secret: Uint8Array, host: string): Uint8Array {
  const ip = ipToBytes(host) ?? new TextEncoder().encode(host);
  const h = createHash('sha1').update(secret).update(ip).digest();
  return new Uint8Array(h.buffer, h.byteOffset, TOKEN_BYTES).slice();
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
