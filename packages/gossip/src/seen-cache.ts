/**
 * The seen cache (gossipsub-v1.0.md, "Message processing": "the router ... drops messages it has
 * already seen"): message ids remembered for `ttlMs`. Entries expire in insertion order, so the
 * cache is a `Map` trimmed from its oldest end: O(1) per message, no timers.
 */
import type { MsgKey } from './ids';

export class SeenCache {
  private readonly entries = new Map<MsgKey, number>();
  readonly ttlMs: number;

  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }

  get size(): number {
    return this.entries.size;
  }

  has(key: MsgKey, now: number): boolean {
    const expires = this.entries.get(key);
    return expires !== undefined && expires > now;
  }

  /** Remembers `key`; returns false when it was already there (and not expired). */
  add(key: MsgKey, now: number): boolean {
    this.prune(now);
    if (this.has(key, now)) return false;
    this.entries.delete(key);
    this.entries.set(key, now + this.ttlMs);
    return true;
  }

  /** Forgets expired ids (called on every `add` and each heartbeat). */
  prune(now: number): void {
    for (const [key, expires] of this.entries) {
      if (expires > now) break;
      this.entries.delete(key);
    }
  }
}
