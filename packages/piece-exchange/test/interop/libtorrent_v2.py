#!/usr/bin/python3
"""libtorrent (python3-libtorrent 2.0) for the BEP 52 interop tests.

  libtorrent_v2.py create PARENT NAME OUT v1|v2|hybrid PIECE_LENGTH
      creates a .torrent of PARENT/NAME (without `creation date`), prints {"v1": hex, "v2": hex}
  libtorrent_v2.py seed|leech TORRENT|MAGNET SAVE_DIR [PEER_PORT] [SECONDS]
      prints {"port": P} once listening, then status lines; a leecher exits 0 when complete
"""
import json
import sys
import time

import libtorrent as lt

mode = sys.argv[1]

if mode == 'create':
    parent, name, out, version, piece = sys.argv[2:7]
    flags = {'v1': lt.create_torrent.v1_only, 'v2': lt.create_torrent.v2_only, 'hybrid': 0}[version]
    fs = lt.file_storage()
    lt.add_files(fs, parent + '/' + name)
    ct = lt.create_torrent(fs, int(piece), flags=flags)
    lt.set_piece_hashes(ct, parent)
    entry = ct.generate()
    entry.pop(b'creation date', None)
    data = lt.bencode(entry)
    with open(out, 'wb') as f:
        f.write(data)
    ti = lt.torrent_info(data)
    hashes = ti.info_hashes()
    print(json.dumps({
        'v1': str(hashes.v1) if hashes.has_v1() else None,
        'v2': str(hashes.v2) if hashes.has_v2() else None,
    }), flush=True)
    sys.exit(0)

target, save = sys.argv[2], sys.argv[3]
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
    'out_enc_policy': int(lt.enc_policy.disabled),
    'in_enc_policy': int(lt.enc_policy.enabled),
    'allow_multiple_connections_per_ip': True,
    'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.peer_notification,
})
if target.startswith('magnet:'):
    params = lt.parse_magnet_uri(target)
    params.save_path = save
    handle = session.add_torrent(params)
else:
    handle = session.add_torrent({'ti': lt.torrent_info(target), 'save_path': save})
print(json.dumps({'port': session.listen_port()}), flush=True)
if peer_port is not None:
    handle.connect_peer(('127.0.0.1', peer_port))

deadline = time.time() + seconds
while time.time() < deadline:
    status = handle.status()
    for alert in session.pop_alerts():
        if alert.category() & lt.alert.category_t.error_notification:
            print(json.dumps({'alert': alert.message()}), flush=True)
    print(json.dumps({'progress': status.progress, 'state': str(status.state),
                      'peers': status.num_peers, 'seeding': status.is_seeding,
                      'metadata': status.has_metadata}), flush=True)
    if mode == 'leech' and status.is_seeding:
        sys.exit(0)
    if peer_port is not None and status.num_peers == 0:
        handle.connect_peer(('127.0.0.1', peer_port))
    time.sleep(0.05)
sys.exit(0 if mode == 'seed' else 1)
