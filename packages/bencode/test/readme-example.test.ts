// The README's example, kept runnable: if this test changes, update the README too.
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { BencodeError, decode, encode, isBencodeDict, rawSpan } from '../src/index';

it('runs the README example', () => {
  // Encode a KRPC ping query (BEP 5). Keys are sorted as raw bytes for you.
  const ping = encode({ t: 'aa', y: 'q', q: 'ping', a: { id: new Uint8Array(20) } });

  // Decode: byte strings are Uint8Array views, dictionary keys are binary strings.
  const msg = decode(ping);
  if (!isBencodeDict(msg)) throw new Error('not a dictionary');
  const y = new TextDecoder().decode(msg.y as Uint8Array); // 'q'

  // A torrent with unsorted keys: strict mode refuses it, lenient mode reads it, and the
  // info-hash is taken over the original bytes of `info`.
  const torrent = new TextEncoder().encode('d4:infod4:name1:a6:lengthi1eee');
  let code = '';
  try {
    decode(torrent);
  } catch (e) {
    if (e instanceof BencodeError) code = `${e.code}@${e.offset}`; // 'UNSORTED_KEYS@17'
  }
  const span = rawSpan(torrent, ['info'], { strict: false });
  const infoHash =
    span && createHash('sha1').update(torrent.subarray(span.start, span.end)).digest('hex');

  expect(Buffer.from(ping).toString('latin1')).toBe(
    `d1:ad2:id20:${'\u0000'.repeat(20)}e1:q4:ping1:t2:aa1:y1:qe`,
  );
  expect(y).toBe('q');
  expect(code).toBe('UNSORTED_KEYS@17');
  expect(infoHash).toBe(createHash('sha1').update('d4:name1:a6:lengthi1ee').digest('hex'));
});
