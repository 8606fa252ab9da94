import {
  encodeMessage,
  formatMagnet,
  MagnetError,
  parseMagnet,
  WireDecoder,
  WireError,
  type WireMessage,
} from '../src/index';
import { describeMagnetCompliance, describeWireCompliance } from '../src/testing';

describeWireCompliance('@peerkit/piece-exchange WireDecoder', {
  encode: encodeMessage,
  decode(chunks) {
    const decoder = new WireDecoder({ handshake: false });
    const out: WireMessage[] = [];
    for (const chunk of chunks) {
      for (const frame of decoder.decode(chunk)) if (frame.type !== 'handshake') out.push(frame);
    }
    return out;
  },
  errorClass: WireError,
});

describeMagnetCompliance('@peerkit/piece-exchange magnets', {
  parse: (uri) => parseMagnet(uri),
  format: formatMagnet,
  errorClass: MagnetError,
});
