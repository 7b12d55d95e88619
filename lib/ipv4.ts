// IPv4 dotted-quad text, as both the CLIs (flag checks) and network/ipam.ts (address math) read it.

const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as an unsigned 32-bit integer, or undefined when `text` is not a dotted quad. */
export function parseIpv4(text: string): number | undefined {
  const m = IPV4_RE.exec(text.trim());
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    // Leading zeros are refused because some tools read them as octal.
    if (octet > 255 || (m[i]!.length > 1 && m[i]!.startsWith('0'))) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function isIpv4(text: string): boolean {
  return parseIpv4(text) !== undefined;
}
