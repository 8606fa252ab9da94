/**
 * Which addresses are our own listener (`isSelf` in ./src/node-peers.ts): a peer source that
 * lists us must not make us dial ourselves, and a peer on another loopback address or another
 * interface with the same port number is someone else.
 */
import type { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isOwnAddress, listenHosts } from '../src/node-peers';

type Interfaces = ReturnType<typeof networkInterfaces>;

const entry = (address: string, family: 'IPv4' | 'IPv6') =>
  ({
    address,
    family,
    netmask: family === 'IPv4' ? '255.0.0.0' : 'ffff::',
    mac: '00:00:00:00:00:00',
    internal: false,
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  }) as NonNullable<Interfaces[string]>[number];

const interfaces: Interfaces = {
  lo: [entry('127.0.0.1', 'IPv4'), entry('::1', 'IPv6')],
  eth0: [entry('192.0.2.7', 'IPv4'), entry('2001:db8::7', 'IPv6')],
};

describe('our own listen addresses', () => {
  it('a listener bound to one address is only that address', () => {
    const listen = { host: '127.0.0.2', port: 6881 };
    const hosts = listenHosts(listen, interfaces);
    expect(isOwnAddress({ host: '127.0.0.2', port: 6881 }, listen, hosts)).toBe(true);
    // Another loopback address with the same port is another process, not us.
    expect(isOwnAddress({ host: '127.0.0.1', port: 6881 }, listen, hosts)).toBe(false);
    expect(isOwnAddress({ host: '::1', port: 6881 }, listen, hosts)).toBe(false);
    expect(isOwnAddress({ host: '127.0.0.2', port: 6882 }, listen, hosts)).toBe(false);
  });

  it('a wildcard IPv4 listener is every IPv4 address of the machine', () => {
    const listen = { host: '0.0.0.0', port: 51413 };
    const hosts = listenHosts(listen, interfaces);
    expect(isOwnAddress({ host: '127.0.0.1', port: 51413 }, listen, hosts)).toBe(true);
    expect(isOwnAddress({ host: '192.0.2.7', port: 51413 }, listen, hosts)).toBe(true);
    expect(isOwnAddress({ host: '::ffff:192.0.2.7', port: 51413 }, listen, hosts)).toBe(true);
    expect(isOwnAddress({ host: '2001:db8::7', port: 51413 }, listen, hosts)).toBe(false);
    expect(isOwnAddress({ host: '192.0.2.8', port: 51413 }, listen, hosts)).toBe(false);
  });

  it('a wildcard IPv6 listener is every address of the machine, both families', () => {
    const listen = { host: '::', port: 6881 };
    const hosts = listenHosts(listen, interfaces);
    expect(isOwnAddress({ host: '::1', port: 6881 }, listen, hosts)).toBe(true);
    expect(isOwnAddress({ host: '2001:DB8::7', port: 6881 }, listen, hosts)).toBe(true);
    expect(isOwnAddress({ host: '192.0.2.7', port: 6881 }, listen, hosts)).toBe(true);
    expect(isOwnAddress({ host: '198.51.100.1', port: 6881 }, listen, hosts)).toBe(false);
  });
});
