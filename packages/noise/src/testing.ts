/**
 * @peerkit/noise/testing: the arbitraries, network stand-ins and compliance suite that
 * peerkit's own tests use, for testing other secure-channel implementations the same way.
 */
export {
  arbChunkSizes,
  arbFrameTamper,
  arbKey32,
  arbPayload,
  arbPayloadSequence,
  patternBytes,
} from './testing/arbitraries';
export { type ComplianceOptions, describeSecureChannelCompliance } from './testing/compliance';
export {
  bitFlipInterceptor,
  type FrameTamper,
  frameInterceptor,
  frameTamperInterceptor,
  splitInterceptor,
} from './testing/interceptors';
export { ManualClock } from './testing/manual-clock';
export {
  type Interceptor,
  type MemoryStreamPairOptions,
  memoryStreamPair,
} from './testing/memory-stream';
export {
  runSession,
  type SecureChannelImplementation,
  type SecureChannelOptions,
  type SecuredStream,
  type SessionOptions,
  type SessionOutcome,
  type SideOutcome,
} from './testing/session';
