/**
 * @peerkit/framing/testing: fast-check arbitraries, compliance helpers and an in-memory
 * stream pair, for testing framing and codecs (peerkit's own or yours).
 */
export {
  arbCuts,
  arbFramedStream,
  arbHostileChunks,
  arbHostileMessage,
  arbitraryFor,
  arbPayload,
  arbPrefix,
  concatBytes,
  cutBytes,
  type FramedStreamCase,
  referenceFrame,
} from './testing/arbitraries';
export {
  type ComplianceOptions,
  checkCodecCompliance,
  checkFramingCompliance,
  type FramingUnderTest,
  peerkitFraming,
  varintOf,
} from './testing/compliance';
export { type MemoryStreamOptions, memoryStreamPair } from './testing/memory-stream';
