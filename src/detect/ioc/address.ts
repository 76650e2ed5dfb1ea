/**
 * IP addresses as keys that compare equal whatever the spelling: IPv4 as a
 * 32-bit number, IPv6 as a 128-bit bigint, and an IPv4-mapped IPv6 address
 * (::ffff:1.2.3.4, what a dual-stack socket shows) as the IPv4 address it
 * carries. Strict: only what inet_pton accepts, so words in a log line that
 * merely look numeric (versions, times) are not addresses.
 */
export type Address = { v: 4; n: number } | { v: 6; n: bigint };

const HEXTET = /^[0-9a-fA-F]{1,4}$/;
const MAPPED_PREFIX = 0xffffn << 32n;

/** Dotted decimal, four parts of 0-255 without leading zeros (what inet_pton accepts); a loop, as every word of a log line may come here. */
export function parseIPv4(s: string): number | null {
  if (s.length < 7 || s.length > 15) return null;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255 || dots > 3) return null;
      n = n * 256 + part;
      dots++;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return null;
      part = part * 10 + (c - 48);
      digits++;
    } else return null;
  }
  return dots === 4 ? n : null;
}

export function parseIPv6(input: string): bigint | null {
  // a zone (fe80::1%eth0) names the link, not the address
  let s = input.includes('%') ? input.slice(0, input.indexOf('%')) : input;
  if (s.length < 2 || s.length > 45 || !plausibleIPv6(s)) return null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    // a trailing dotted IPv4 (::ffff:1.2.3.4) is two hextets written another way
    const v4 = parseIPv4(s.slice(lastColon + 1));
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const h of part.split(':')) {
      if (!HEXTET.test(h)) return null;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  let groups: number[];
  if (halves.length === 2) {
    const head = parse(halves[0]!);
    const rest = parse(halves[1]!);
    if (!head || !rest) return null;
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    const all = parse(s);
    if (!all || all.length !== 8) return null;
    groups = all;
  }
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(g);
  return n;
}

/**
 * Only hex digits, colons and dots, and seven colons (six before a dotted
 * IPv4 part) unless "::" stands for some groups: a time (09:00:01) is no
 * address. A loop, since most words tried are not addresses.
 */
function plausibleIPv6(s: string): boolean {
  let colons = 0;
  let double = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 58) {
      colons++;
      if (s.charCodeAt(i + 1) === 58) double = true;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 46)) return false;
  }
  return colons >= 2 && (double || colons >= 6);
}

/** An IPv4 or IPv6 address, with IPv4-mapped IPv6 folded to IPv4; brackets ([::1]) are accepted. */
export function parseAddress(s: string): Address | null {
  const t = s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s;
  const v4 = parseIPv4(t);
  if (v4 !== null) return { v: 4, n: v4 };
  const v6 = parseIPv6(t);
  if (v6 === null) return null;
  if (v6 >> 32n === 0xffffn && (v6 & ~0xffffffffn) === MAPPED_PREFIX) return { v: 4, n: Number(v6 & 0xffffffffn) };
  return { v: 6, n: v6 };
}

/** A Map key per address: a number for IPv4, a bigint for IPv6 (Maps compare bigints by value); never equal to each other. */
export function addressKey(a: Address): number | bigint {
  return a.n;
}

export function formatAddress(a: Address): string {
  if (a.v === 4) return [a.n >>> 24, (a.n >>> 16) & 255, (a.n >>> 8) & 255, a.n & 255].join('.');
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((a.n >> BigInt(i * 16)) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes "::"
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best === -1) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function isUnspecified(a: Address): boolean {
  return a.n === 0 || a.n === 0n;
}

/** A network: an address with its prefix length, host bits cleared. */
export interface Network {
  address: Address;
  prefix: number;
}

export function parseCidr(s: string): Network | null {
  const slash = s.indexOf('/');
  if (slash === -1 || !/^\d{1,3}$/.test(s.slice(slash + 1))) return null;
  const raw = s.slice(0, slash);
  let prefix = Number(s.slice(slash + 1));
  const a = parseAddress(raw);
  if (!a) return null;
  // ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8
  if (a.v === 4 && parseIPv4(raw.replace(/^\[|\]$/g, '')) === null) prefix -= 96;
  if (prefix < 0 || prefix > (a.v === 4 ? 32 : 128)) return null;
  return { address: maskAddress(a, prefix), prefix };
}

export function maskAddress(a: Address, prefix: number): Address {
  if (a.v === 4) return { v: 4, n: prefix === 0 ? 0 : (a.n & (~0 << (32 - prefix))) >>> 0 };
  const mask = prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
  return { v: 6, n: a.n & mask };
}
