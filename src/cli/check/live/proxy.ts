/** The live check's usage error and its `--proxy` flag. */

/** Bad usage or configuration (no credentials, no region, unknown stack): exit code 2. */
export class LiveCheckUsageError extends Error {}

/** A proxy the jobs reach the internet through: an IPv4 address or CIDR. */
export interface Proxy {
  readonly text: string;
  readonly network: number;
  readonly bits: number;
}

export function parseProxy(text: string): Proxy | undefined {
  const m = /^(?:[a-z]+:\/\/)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?(?::\d+)?\/?$/i.exec(
    text.trim(),
  );
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  const bits = m[5] === undefined ? 32 : Number(m[5]);
  if (bits > 32) return undefined;
  return { text, network: ipToInt(octets), bits };
}

function ipToInt(o: number[]): number {
  return ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];
}

/** True when the CIDR holds the whole proxy range. */
export function cidrCovers(cidr: string, proxy: Proxy): boolean {
  const [ip, b] = cidr.split('/');
  const bits = Number(b);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(ip) || Number.isNaN(bits) || bits > proxy.bits) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipToInt(ip.split('.').map(Number)) & mask) >>> 0 === (proxy.network & mask) >>> 0;
}
