"""libtorrent 2.0 peer for peerkit's uTP interop tests: uTP only (TCP disabled both ways).

usage: lt_peer.py seed|get <torrent> <save_dir> <listen_port> [<peer_host:port>]

Prints one JSON object per line: {"event": "listening", "port": N}, then every 0.5 s
{"event": "status", "progress": f, "peers": [{"ip": "...", "utp": bool, ...}]}, and
{"event": "done"} once the torrent is complete (a getter keeps running to keep seeding until
it is stopped by PID).
"""
import json
import sys
import time

import libtorrent as lt

UTP_SOCKET = 1 << 17

mode, torrent, save, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
peer = sys.argv[5] if len(sys.argv) > 5 else None

session = lt.session({
    'listen_interfaces': f'127.0.0.1:{port}',
    'enable_outgoing_tcp': False,
    'enable_incoming_tcp': False,
    'enable_outgoing_utp': True,
    'enable_incoming_utp': True,
    'enable_dht': False,
    'enable_lsd': False,
    'enable_upnp': False,
    'enable_natpmp': False,
    'allow_multiple_connections_per_ip': True,
    'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
})
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = save
if mode == 'seed':
    params.flags |= lt.torrent_flags.seed_mode
handle = session.add_torrent(params)


def say(**event):
    print(json.dumps(event), flush=True)


say(event='listening', port=session.listen_port())
if peer:
    host, p = peer.rsplit(':', 1)
    handle.connect_peer((host, int(p)))
done_said = False
started = time.time()
tick = 0
while True:
    # Completion is checked every 50 ms (as bench/lt_pair.py does), the status said every 0.5 s.
    time.sleep(0.05)
    tick += 1
    s = handle.status()
    if s.is_seeding and not done_said and mode == 'get':
        done_said = True
        say(event='done', seconds=round(time.time() - started, 3))
    if tick % 10 != 1:
        continue
    peers = [
        {
            'ip': f'{p.ip[0]}:{p.ip[1]}',
            # peer_info::utp_socket is bit 17 of the flags in libtorrent 2.0 (peer_info.hpp);
            # the Python bindings do not name it.
            'utp': bool(int(p.flags) & UTP_SOCKET),
            'flags': int(p.flags),
            'down': p.total_download,
            'up': p.total_upload,
        }
        for p in handle.get_peer_info()
    ]
    say(event='status', progress=s.progress, state=str(s.state), peers=peers,
        down=s.total_payload_download, up=s.total_payload_upload,
        seconds=round(time.time() - started, 3))
    if peer and not peers:
        handle.connect_peer((host, int(p)))
