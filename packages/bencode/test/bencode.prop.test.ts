import { BencodeError, decode, encode } from '../src/index';
import { describeBencodeCompliance } from '../src/testing';

// The properties, 1,000 runs each, through the same suite users run on their codecs.
describeBencodeCompliance('@peerkit/bencode', { encode, decode, errorClass: BencodeError });
