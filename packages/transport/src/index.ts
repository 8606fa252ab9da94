export {
  type AddressFamily,
  addressFamily,
  formatAddress,
  isValidPort,
  parseAddress,
  sameAddress,
} from './address';
export {
  createSystemClock,
  type SystemClockOptions,
  sleep,
  systemClock,
  withTimeout,
} from './clock';
export { isTransportError, TransportError, type TransportErrorCode } from './errors';
export {
  Emitter,
  type EmitterOptions,
  EventChannel,
  type EventHandler,
  type EventMap,
  type HandlerErrorReporter,
  reportHandlerError,
} from './events';
export { parseHex, toHex } from './hex';
export type {
  Address,
  BindOptions,
  Clock,
  DatagramSocket,
  DialOptions,
  Network,
  Random,
  Stream,
  StreamListener,
  Timer,
} from './interfaces';
export { MAX_DATAGRAM_SIZE } from './node-datagram';
export {
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_MARK,
  type NodeNetworkOptions,
  nodeNetwork,
} from './node-network';
export { cryptoRandom } from './random';
export { RateLimiter } from './rate-limit';
