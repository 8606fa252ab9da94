declare module 'bittorrent-dht';
