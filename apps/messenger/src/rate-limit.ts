/**
 * The messenger's rate limits (per author, per connection) are transport's `RateLimiter`, a
 * token bucket per key: `ratePerSecond` tokens refill continuously up to `burst`; each message
 * or request takes one. Re-exported here for the messenger's public surface.
 */
export { RateLimiter } from '@peerkit/transport';
