import { addressKey, maskAddress, type Address } from './address.js';
import type { Indicator, IndicatorKind, Parsed } from './indicator.js';

/**
 * Every indicator of a run, kept so that each lookup costs the same whether
 * the list holds ten entries or a million: hashes, addresses, domains, URLs
 * and names in maps; networks in one map per prefix length, so an address is
 * tested against at most 33 (IPv4) or 129 (IPv6) masks, never against each
 * network. A domain is looked up once per label of the name it is tested
 * against (a.b.evil.com: a.b.evil.com, b.evil.com, evil.com).
 */
export class IndicatorSet {
  private readonly hashes = new Map<string, Indicator>();
  private readonly addresses = new Map<number | bigint, Indicator>();
  private readonly networks = new Map<number, Map<number | bigint, Indicator>>();
  /** Prefix lengths present, longest first: the most specific network is reported. */
  private prefixes: { v: 4 | 6; len: number }[] = [];
  private readonly domains = new Map<string, Indicator>();
  private readonly urls = new Map<string, Indicator>();
  private readonly names = new Map<string, Indicator>();
  /** The first two characters of every name, as one number: most words of a log line are turned away here, before any string is hashed. */
  private readonly nameHeads = new Set<number>();
  private readonly paths = new Map<string, Indicator>();
  private readonly counts = new Map<IndicatorKind, number>();

  /** Adds one indicator; false when an equal one is already there (the first keeps its origin). */
  add(p: Parsed, origin: string, label: string | null): boolean {
    const ind: Indicator = { kind: p.kind, value: p.value, origin, label };
    let added: boolean;
    switch (p.kind) {
      case 'md5':
      case 'sha1':
      case 'sha256':
        added = putNew(this.hashes, p.value, ind);
        break;
      case 'ip':
        added = putNew(this.addresses, addressKey(p.address), ind);
        break;
      case 'cidr': {
        const key = (p.network.address.v === 4 ? 0 : 1000) + p.network.prefix;
        let m = this.networks.get(key);
        if (!m) {
          m = new Map();
          this.networks.set(key, m);
          this.prefixes.push({ v: p.network.address.v, len: p.network.prefix });
          this.prefixes.sort((a, b) => b.len - a.len);
        }
        added = putNew(m, addressKey(p.network.address), ind);
        break;
      }
      case 'domain':
        added = putNew(this.domains, p.value, ind);
        break;
      case 'url':
        added = putNew(this.urls, p.value, ind);
        break;
      case 'filename':
        added = putNew(this.names, p.value, ind);
        this.nameHeads.add(head(p.value, 0));
        break;
      case 'path':
        added = putNew(this.paths, p.value, ind);
        break;
    }
    if (added) this.counts.set(p.kind, (this.counts.get(p.kind) ?? 0) + 1);
    return added;
  }

  get size(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  count(kind: IndicatorKind): number {
    return this.counts.get(kind) ?? 0;
  }

  get hasHashes(): boolean {
    return this.hashes.size > 0;
  }

  get hasAddresses(): boolean {
    return this.addresses.size > 0 || this.networks.size > 0;
  }

  get hasNames(): boolean {
    return this.names.size > 0 || this.paths.size > 0;
  }

  get hasDomains(): boolean {
    return this.domains.size > 0;
  }

  get hasUrls(): boolean {
    return this.urls.size > 0;
  }

  /** A hex digest of any length (case ignored). */
  hash(hex: string): Indicator | undefined {
    return this.hashes.get(hex.toLowerCase());
  }

  address(a: Address): Indicator | undefined {
    const exact = this.addresses.get(addressKey(a));
    if (exact) return exact;
    for (const p of this.prefixes) {
      if (p.v !== a.v) continue;
      const hit = this.networks.get((p.v === 4 ? 0 : 1000) + p.len)!.get(addressKey(maskAddress(a, p.len)));
      if (hit) return hit;
    }
    return undefined;
  }

  /** The indicator for this name or any domain it is a subdomain of; `name` lower case, no trailing dot. */
  domain(name: string): Indicator | undefined {
    if (this.domains.size === 0) return undefined;
    for (let i = -1; ; ) {
      const hit = this.domains.get(i === -1 ? name : name.slice(i + 1));
      if (hit) return hit;
      i = name.indexOf('.', i + 1);
      if (i === -1) return undefined;
    }
  }

  /** A normalised URL; also matches an indicator written without the query string. */
  url(normalized: string): Indicator | undefined {
    const exact = this.urls.get(normalized);
    if (exact) return exact;
    const q = normalized.indexOf('?');
    return q === -1 ? undefined : this.urls.get(normalized.slice(0, q));
  }

  /** A path's file name, and the whole path for indicators written as absolute paths. */
  file(path: string): Indicator | undefined {
    if (this.paths.size > 0 && path.charCodeAt(0) === 47) {
      const byPath = this.paths.get(path);
      if (byPath) return byPath;
    }
    const start = path.lastIndexOf('/') + 1;
    if (this.names.size === 0 || !this.nameHeads.has(head(path, start))) return undefined;
    return this.names.get(start === 0 ? path : path.slice(start));
  }
}

function head(s: string, at: number): number {
  return (s.charCodeAt(at) << 16) | (s.charCodeAt(at + 1) || 0);
}

function putNew<K, V>(m: Map<K, V>, k: K, v: V): boolean {
  if (m.has(k)) return false;
  m.set(k, v);
  return true;
}
