export {
  type AddressFamily,
  addressFamily,
  formatAddress,
  isValidPort,
  parseAddress,
  sameAddress,
} from './address';
export { isTransportError, TransportError, type TransportErrorCode } from './errors';
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
