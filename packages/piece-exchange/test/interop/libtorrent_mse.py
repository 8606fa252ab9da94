#!/usr/bin/python3
"""libtorrent (python3-libtorrent 2.0) for the MSE/PE interop test, encryption forced (pe_forced,
pe_rc4). Usage: libtorrent_mse.py seed|leech TORRENT SAVE_DIR [PEER_PORT] [SECONDS]
Prints one JSON object per line: {"port": P} once listening, then status lines
{"progress": x, "rc4": n, "plaintext": n, "peers": n}; a leecher exits 0 when complete."""
import json
import sys
import time

import libtorrent as lt

mode, torrent, save = sys.argv[1], sys.argv[2], sys.argv[3]
peer_port = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != '0' else None
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 60

session = lt.session({
    'listen_interfaces': '127.0.0.1:0',
    'enable_dht': False,
    'enable_lsd': False,
    'enable_upnp': False,
    'enable_natpmp': False,
    'enable_incoming_utp': False,
    'enable_outgoing_utp': False,
    'out_enc_policy': int(lt.enc_policy.pe_forced),
    'in_enc_policy': int(lt.enc_policy.pe_forced),
    'allowed_enc_level': int(lt.enc_level.pe_rc4),
    'prefer_rc4': True,
    'allow_multiple_connections_per_ip': True,
})
handle = session.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save})
print(json.dumps({'port': session.listen_port()}), flush=True)
if peer_port is not None:
    handle.connect_peer(('127.0.0.1', peer_port))

seen_rc4 = 0
deadline = time.time() + seconds
while time.time() < deadline:
    status = handle.status()
    rc4 = plain = 0
    for peer in handle.get_peer_info():
        if peer.flags & lt.peer_info.rc4_encrypted:
            rc4 += 1
        elif peer.flags & lt.peer_info.plaintext_encrypted:
            plain += 1
    seen_rc4 = max(seen_rc4, rc4)
    print(json.dumps({'progress': status.progress, 'state': str(status.state), 'rc4': rc4,
                      'plaintext': plain, 'peers': status.num_peers, 'seen_rc4': seen_rc4}),
          flush=True)
    if mode == 'leech' and status.is_seeding:
        sys.exit(0)
    if peer_port is not None and status.num_peers == 0:
        handle.connect_peer(('127.0.0.1', peer_port))
    time.sleep(0.02)
sys.exit(0 if mode == 'seed' else 1)
