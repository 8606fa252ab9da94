/**
 * Packet size from the path (BEP 29, "packet sizes"; the search is libtorrent's): start with
 * a size every IPv4/IPv6 path carries without fragmentation, then probe upwards by binary
 * search between `floor` (known to pass) and `ceiling` (the largest size allowed). A probe that
 * is acknowledged raises the floor; a probe that is lost lowers the ceiling. Packets other than
 * probes are never larger than the floor.
 */

/** 576 (IPv4's minimum reassembly size) - 20 (IPv4) - 8 (UDP). */
export const MIN_PATH_PACKET = 548;
/** 1500 (Ethernet) - 20 (IPv4) - 8 (UDP). */
export const ETHERNET_PACKET_V4 = 1472;
/** 1500 (Ethernet) - 40 (IPv6) - 8 (UDP). */
export const ETHERNET_PACKET_V6 = 1452;
/** The search stops when ceiling - floor is below this. */
const SEARCH_RESOLUTION = 16;

export class PacketSizer {
  floor: number;
  ceiling: number;
  /** Size of the probe in flight, 0 when none. */
  probing = 0;

  constructor(floor = MIN_PATH_PACKET, ceiling = ETHERNET_PACKET_V4) {
    this.floor = Math.min(floor, ceiling);
    this.ceiling = ceiling;
  }

  /** The size of ordinary packets (what is known to pass). */
  get size(): number {
    return this.floor;
  }

  /** The size of the next packet: a probe when a search step is due, else the floor. */
  nextProbe(): number {
    if (this.probing !== 0 || this.ceiling - this.floor < SEARCH_RESOLUTION) return 0;
    return (this.floor + this.ceiling + 1) >> 1;
  }

  /** The probe of `size` bytes was acknowledged. */
  onProbeAcked(size: number): void {
    if (size > this.floor) this.floor = Math.min(size, this.ceiling);
    if (this.probing === size) this.probing = 0;
  }

  /** The probe of `size` bytes was lost. */
  onProbeLost(size: number): void {
    if (size <= this.ceiling) this.ceiling = Math.max(this.floor, size - 1);
    if (this.probing === size) this.probing = 0;
  }
}
