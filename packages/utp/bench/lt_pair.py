"""libtorrent -> libtorrent over uTP only on loopback: seconds to download a torrent.
usage: lt_pair.py <torrent> <seed_dir> <work_dir>"""
import json, sys, time, os
import libtorrent as lt

torrent, seed_dir, work = sys.argv[1], sys.argv[2], sys.argv[3]
def session(port):
    return lt.session({
        'listen_interfaces': f'127.0.0.1:{port}', 'enable_outgoing_tcp': False,
        'enable_incoming_tcp': False, 'enable_outgoing_utp': True, 'enable_incoming_utp': True,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True})
a, b = session(0), session(0)
pa = lt.add_torrent_params(); pa.ti = lt.torrent_info(torrent); pa.save_path = seed_dir
pa.flags |= lt.torrent_flags.seed_mode
ha = a.add_torrent(pa)
pb = lt.add_torrent_params(); pb.ti = lt.torrent_info(torrent); pb.save_path = os.path.join(work, 'lt-pair')
hb = b.add_torrent(pb)
start = time.time()
hb.connect_peer(('127.0.0.1', a.listen_port()))
# The connection's type is read while it is up (the seed may disconnect once b completes).
seen = {}
while not hb.status().is_seeding and time.time() - start < 300:
    for p in hb.get_peer_info():
        seen[f'{p.ip[0]}:{p.ip[1]}'] = bool(int(p.flags) & (1 << 17))
    time.sleep(0.05)
utp = list(seen.values())
print(json.dumps({'seconds': time.time() - start, 'utp': utp, 'done': hb.status().is_seeding}))
