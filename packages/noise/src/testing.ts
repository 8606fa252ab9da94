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
} from './test-kit/arbitraries';
export { type ComplianceOptions, describeSecureChannelCompliance } from './test-kit/compliance';
export {
  bitFlipInterceptor,
  type FrameTamper,
  frameInterceptor,
  frameTamperInterceptor,
  splitInterceptor,
} from './test-kit/interceptors';
export { ManualClock } from './test-kit/manual-clock';
export {
  type Interceptor,
  type MemoryStreamPairOptions,
  memoryStreamPair,
} from './test-kit/memory-stream';
export {
  runSession,
  type SecureChannelImplementation,
  type SecureChannelOptions,
  type SecuredStream,
  type SessionOptions,
  type SessionOutcome,
  type SideOutcome,
} from './test-kit/session';
