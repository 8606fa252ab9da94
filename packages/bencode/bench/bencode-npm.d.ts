// The npm `bencode` package (bench reference only) ships no types; this is the part we call.
declare module 'bencode' {
  const bencode: {
    encode(value: unknown): Uint8Array;
    decode(bytes: Uint8Array): unknown;
  };
  export default bencode;
}
