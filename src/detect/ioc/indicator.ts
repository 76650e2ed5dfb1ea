import { domainToASCII } from 'node:url';
import { formatAddress, parseAddress, parseCidr, type Address, type Network } from './address.js';

/** What an indicator names; each kind is matched by its own rule (src/detect/ioc/rules.ts). */
export const INDICATOR_KINDS = ['md5', 'sha1', 'sha256', 'ip', 'cidr', 'domain', 'url', 'filename', 'path'] as const;
export type IndicatorKind = (typeof INDICATOR_KINDS)[number];

/** One indicator as loaded: its canonical value, and where it came from so a finding can point back at the list. */
export interface Indicator {
  kind: IndicatorKind;
  /** Canonical form: lower-case hex, RFC 5952 address, a.b.c domain, normalised URL, name or path as given. */
  value: string;
  /** FILE:LINE of a list, or the STIX indicator's id. */
  origin: string;
  /** A name the feed gives it (STIX name, a CSV description column), when any. */
  label: string | null;
}

export type Parsed =
  | { kind: 'md5' | 'sha1' | 'sha256' | 'filename' | 'path' | 'domain' | 'url'; value: string }
  | { kind: 'ip'; value: string; address: Address }
  | { kind: 'cidr'; value: string; network: Network };

const HASH_KIND: Record<number, 'md5' | 'sha1' | 'sha256'> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/**
 * Extensions that make a bare word a file name rather than a domain. Some are
 * also country or brand TLDs (.sh, .py, .pl, .zip): a plain list cannot tell,
 * so it says "name" here and a feed that means the domain writes it as one
 * (a CSV type column, STIX domain-name, or the prefix "domain:").
 */
const FILE_EXTENSIONS = new Set(
  'exe dll so ko elf bin sh bash py pyc pl rb php phtml jsp jspx asp aspx war jar js vbs ps1 bat cmd lnk doc docx xls xlsx xlsm pdf rtf zip rar 7z gz tgz tar xz bz2 deb rpm apk img iso msi out x86 x64 arm arm7 mips mpsl ppc m68k sparc i686 run txt log conf cfg json yml yaml'.split(' '),
);

/** A bare word a plain list can mean as a file name; other names need a type (CSV, STIX, or "filename:"). */
const BARE_NAME = /^[\w.+-]{1,255}$/;

/** Feeds publish indicators "defanged" so nobody clicks them: hxxp://evil[.]com. */
export function refang(s: string): string {
  return s
    .replace(/\[(?:\.|dot)\]|\((?:\.|dot)\)|\{(?:\.|dot)\}/gi, '.')
    .replace(/\[:\]/g, ':')
    .replace(/\[\/\]/g, '/')
    .replace(/^hxxp(s?)/i, 'http$1')
    .replace(/^fxp/i, 'ftp')
    .replace(/\[@\]|\[at\]/gi, '@');
}

export function normalizeDomain(s: string): string | null {
  const d = domainToASCII(s.replace(/\.$/, '').toLowerCase());
  if (d === '' || d.length > 253) return null;
  const labels = d.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  const tld = labels[labels.length - 1]!;
  return /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/.test(tld) ? d : null;
}

/**
 * A URL in the one spelling every copy of it shares: scheme and host lower
 * case (WHATWG URL does that, and drops a default port), no fragment, no
 * trailing slash on the path. The query stays: it is often what names the victim.
 */
export function normalizeUrl(s: string): string | null {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return null;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (u.hostname === '') return null;
  u.hash = '';
  let path = u.pathname;
  while (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  return `${u.protocol}//${auth}${u.host}${path === '/' ? '' : path}${u.search}`;
}

export function urlHost(normalized: string): string {
  return new URL(normalized).hostname;
}

export function hashKind(s: string): 'md5' | 'sha1' | 'sha256' | null {
  return /^[0-9a-fA-F]+$/.test(s) ? (HASH_KIND[s.length] ?? null) : null;
}

/** An indicator of a kind the feed states. */
export function parseAs(kind: IndicatorKind, raw: string): Parsed | null {
  const s = kind === 'filename' || kind === 'path' ? raw : refang(raw.trim());
  switch (kind) {
    case 'md5':
    case 'sha1':
    case 'sha256':
      return hashKind(s) === kind ? { kind, value: s.toLowerCase() } : null;
    case 'ip': {
      const address = parseAddress(s);
      return address ? { kind, value: formatAddress(address), address } : null;
    }
    case 'cidr': {
      const network = parseCidr(s);
      if (network) return { kind, value: `${formatAddress(network.address)}/${network.prefix}`, network };
      return parseAs('ip', s);
    }
    case 'domain': {
      const value = normalizeDomain(s);
      return value ? { kind, value } : null;
    }
    case 'url': {
      const value = normalizeUrl(s);
      return value ? { kind, value } : null;
    }
    case 'filename':
      return s.length > 0 && !s.includes('/') && !s.includes('\0') ? { kind, value: s } : s.startsWith('/') ? { kind: 'path', value: s } : null;
    case 'path':
      return s.startsWith('/') && !s.includes('\0') ? { kind, value: s } : null;
  }
}

/** An indicator of a plain list, known by its shape alone. */
export function classify(raw: string): Parsed | null {
  const s = refang(raw.trim());
  if (s === '') return null;
  const hk = hashKind(s);
  if (hk) return parseAs(hk, s);
  if (s.includes('://')) return parseAs('url', s);
  if (s.includes('/') && !s.startsWith('/') && parseCidr(s)) return parseAs('cidr', s);
  const ip = parseAs('ip', s);
  if (ip) return ip;
  if (s.startsWith('/')) return parseAs('path', s);
  if (/\s/.test(s)) return null;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 ? s.slice(dot + 1).toLowerCase() : '';
  if (dot === -1 || FILE_EXTENSIONS.has(ext) || s.startsWith('.')) return BARE_NAME.test(s) ? parseAs('filename', s) : null;
  return parseAs('domain', s);
}
