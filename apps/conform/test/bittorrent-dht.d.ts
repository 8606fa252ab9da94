// bittorrent-dht ships no types; the interop test describes the part it uses (`WebTorrentDht`).
declare module 'bittorrent-dht';
