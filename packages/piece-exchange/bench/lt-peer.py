"""One libtorrent (python3-libtorrent 2.0) peer for cli-transfer.bench.ts, one process per side.

  lt-peer.py seed  <file.torrent> <directory>            prints "READY <port>", seeds until stdin closes
  lt-peer.py leech <file.torrent> <directory> <port>     downloads from 127.0.0.1:<port>, prints a JSON line

Plain TCP on loopback only: no uTP, no encryption, no DHT, LSD, UPnP or NAT-PMP; the seeder adds
the torrent in seed mode (its pieces are trusted, as the other clients' seeders are).
"""
import json
import sys
import time

import libtorrent as lt


def session():
    return lt.session({
        'listen_interfaces': '127.0.0.1:0',
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'enable_outgoing_utp': False,
        'enable_incoming_utp': False,
        'in_enc_policy': lt.enc_policy.disabled,
        'out_enc_policy': lt.enc_policy.disabled,
        'alert_mask': lt.alert.category_t.status_notification,
    })


def main():
    mode, torrent, directory = sys.argv[1], sys.argv[2], sys.argv[3]
    ses = session()
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = directory
    params.trackers = []
    if mode == 'seed':
        params.flags |= lt.torrent_flags.seed_mode
        ses.add_torrent(params)
        print('READY', ses.listen_port(), flush=True)
        sys.stdin.read()
        return
    handle = ses.add_torrent(params)
    handle.connect_peer(('127.0.0.1', int(sys.argv[4])))
    start = time.monotonic()
    done = False
    while not done and time.monotonic() < start + 600:
        ses.wait_for_alert(1000)
        done = any(isinstance(a, lt.torrent_finished_alert) for a in ses.pop_alerts())
    end = time.monotonic()
    status = handle.status()
    print(json.dumps({
        'ms': (end - start) * 1000,
        'bytes': status.total_wanted_done,
        'seeding': status.is_seeding,
    }), flush=True)


main()
