/**
 * Addresses a tool must not be pointed at: loopback, private, link-local (cloud metadata), CGNAT,
 * multicast, reserved and documentation ranges — for IPv4, and for IPv6 both natively and through every
 * standard form that carries an IPv4 address, which is judged by that address:
 *   IPv4-mapped ::ffff:0:0/96 and -translated ::ffff:0:0:0/96, IPv4-compatible ::/96 (RFC 4291 §2.5.5),
 *   NAT64 64:ff9b::/96 (RFC 6052) and the local-use 64:ff9b:1::/48 (RFC 8215, every RFC 6052 position),
 *   6to4 2002::/16 (RFC 3056), Teredo 2001::/32 (RFC 4380: server, and client XOR 0xffffffff).
 * The ranges are the entries of the IANA IPv4 and IPv6 Special-Purpose Address Registries
 * (iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry, as updated 2024-10-22,
 * RFC 6890 and its updates) whose "Globally Reachable" is False, plus multicast (224.0.0.0/4, ff00::/8)
 * and the deprecated site-local fec0::/10. For IPv6, everything outside 2000::/3 — the only block the
 * IANA IPv6 Address Space registry allocates as global unicast — is refused unless it carries an IPv4
 * address (judged by that address), so a later special-purpose assignment outside 2000::/3 (SRv6 SIDs
 * 5f00::/16, RFC 9602; the dummy prefix 100:0:0:1::/64, RFC 9780) is refused without a list update.
 * 2001::/23 (IETF protocol assignments) is refused whole, though a few anycast services in it are
 * reachable: a tool has no reason to fetch from them.
 * Not covered: ISATAP interface identifiers (their route is the IPv6 prefix, not the IPv4 address), and
 * what a name resolves to at fetch time, later than the check (DNS rebinding).
 */
import { BlockList, isIP } from 'node:net';

const FORBIDDEN = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4], ['255.255.255.255', 32],
] as const) FORBIDDEN.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32], ['3fff::', 20],
  ['100::', 64], ['2001::', 23], ['64:ff9b:1::', 48], ['5f00::', 16],
] as const) FORBIDDEN.addSubnet(net, prefix, 'ipv6');

/** 2000::/3: the IPv6 global unicast space (IANA IPv6 Address Space registry). */
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** The 16 bytes of an IPv6 address (as `isIP` accepts it, dotted tail included). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 255;
  });
  return bytes;
}

const v4 = (b: ArrayLike<number>): string => `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
const zero = (b: Uint8Array, from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);

/** The IPv4 addresses an IPv6 address carries by a standard embedding (see the module comment). */
export function embeddedIpv4(address: string): string[] {
  const b = ipv6Bytes(address);
  const tail = v4(b.subarray(12, 16));
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return [tail]; // ::ffff:a.b.c.d
  if (zero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zero(b, 10, 12)) return [tail]; // ::ffff:0:a.b.c.d
  if (zero(b, 0, 12)) return [tail]; // ::a.b.c.d
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b) {
    if (zero(b, 4, 12)) return [tail]; // 64:ff9b::/96
    if (b[4] === 0 && b[5] === 1) {
      // 64:ff9b:1::/48: the operator picks the prefix length, so every RFC 6052 position counts.
      return [v4([b[6]!, b[7]!, b[9]!, b[10]!]), v4([b[7]!, b[9]!, b[10]!, b[11]!]), v4(b.subarray(9, 13)), tail];
    }
  }
  if (b[0] === 0x20 && b[1] === 0x02) return [v4(b.subarray(2, 6))]; // 6to4
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) {
    return [v4(b.subarray(4, 8)), v4(Array.from(b.subarray(12, 16), (x) => x ^ 0xff))]; // Teredo server, client
  }
  return [];
}

/** True for an address no tool call may reach; anything that is not an IP address is refused too. */
export function isForbiddenAddress(input: string): boolean {
  const address = input.replace(/%.*$/, ''); // an IPv6 zone (fe80::1%eth0) does not change where it points
  const family = isIP(address);
  if (family === 4) return FORBIDDEN.check(address, 'ipv4');
  if (family !== 6) return true;
  if (FORBIDDEN.check(address, 'ipv6')) return true;
  const carried = embeddedIpv4(address);
  if (carried.length === 0) return !GLOBAL_UNICAST.check(address, 'ipv6');
  return carried.some((a) => FORBIDDEN.check(a, 'ipv4'));
}
