import { z } from 'zod';
import { parseArp, parseIpv6Routes, parseRoutes, scanProcesses } from '../host/proc-net.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector } from './collector.js';
import { namespaceOrder, readNetFile, reportBad, reportScan } from './sockets.js';

const Row = z.object({
  kind: z
    .enum(['route', 'neighbour', 'resolver', 'hosts', 'nsswitch'])
    .describe('route (IPv4 or IPv6 routing table), neighbour (ARP cache), resolver (a resolv.conf line), hosts (an /etc/hosts entry), nsswitch (an nsswitch.conf database line)'),
  netns: z.number().int().nullable().describe('network namespace inode for routes and neighbours; null for configuration files'),
  initNetns: z.boolean().nullable().describe("routes and neighbours: whether the namespace is the host's own (pid 1's)"),
  family: z.enum(['inet', 'inet6']).nullable().describe('address family of a route or neighbour'),
  key: z.string().nullable().describe('resolver: the directive (nameserver, search, domain, options, sortlist…); nsswitch: the database (hosts, passwd…)'),
  address: z.string().nullable().describe('route destination, neighbour IP, nameserver IP, or the IP of a hosts entry (as written)'),
  prefixLength: z.number().int().nullable().describe('route prefix length (0 for a default route)'),
  gateway: z.string().nullable().describe('route gateway or IPv6 next hop; null for a directly connected route'),
  interface: z.string().nullable().describe('interface of a route or neighbour'),
  metric: z.number().int().nullable().describe('route metric'),
  flags: z.array(z.string()).describe('route flags (UP, GATEWAY, HOST, REJECT, LOCAL…) or neighbour flags (COMPLETE, PERMANENT, PUBLISHED)'),
  hwAddress: z.string().nullable().describe('neighbour link-layer (MAC) address'),
  names: z.array(z.string()).describe('hosts: the names mapped to the address; resolver: the remaining words (search domains, options); nsswitch: the sources in order'),
  text: z.string().nullable().describe('configuration files: the whole line as written (carriage returns and control bytes kept)'),
  textBase64: z.string().nullable().describe('the exact line bytes in base64 when they are not valid UTF-8'),
  source: z.string().describe('the file the row came from'),
  line: z.number().int().describe('line number in that file'),
});

type NetRow = z.infer<typeof Row>;

/** A row with every field empty, built property by property (spreading wide objects is slow in V8). */
function blankRow(kind: NetRow['kind'], source: string, line: number, netns: number | null = null, initNetns: boolean | null = null): NetRow {
  return {
    kind,
    netns,
    initNetns,
    family: null,
    key: null,
    address: null,
    prefixLength: null,
    gateway: null,
    interface: null,
    metric: null,
    flags: [],
    hwAddress: null,
    names: [],
    text: null,
    textBase64: null,
    source,
    line,
  };
}

function configRow(kind: NetRow['kind'], source: string, e: ConfigLine): NetRow {
  const r = blankRow(kind, source, e.line);
  r.key = e.key;
  r.address = e.address;
  r.names = e.names;
  r.text = e.text;
  r.textBase64 = e.textBase64;
  return r;
}

/** resolv.conf files: the one the resolver reads, and the upstream list systemd-resolved keeps behind its stub. */
const RESOLVER_FILES = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf', '/run/resolvconf/resolv.conf'];

export const networkConfigCollector = defineCollector({
  name: 'network-config',
  title: 'Routes, neighbours and name resolution',
  description:
    'Where traffic and names go: the IPv4 and IPv6 routing tables and the ARP cache of every network namespace a ' +
    'process lives in (read from /proc/PID/net, not `ip route`), and the name-resolution configuration: resolv.conf ' +
    '(including systemd-resolved\'s upstream copy), /etc/hosts and nsswitch.conf, one row a line with the line kept ' +
    'as written. Look for a default route or nameserver that points somewhere unexpected (traffic or DNS ' +
    'interception), hosts entries that pin update, package or security-vendor domains to odd addresses, an unknown ' +
    'NSS module in nsswitch.conf (a library loaded by every program that resolves names), and ARP entries where two ' +
    'IPs share one MAC (spoofing). Raw copies of every file are kept.',
  preconditions:
    'Routes and neighbours need /proc: the live host or a saved one (--proc). The configuration files work on a live ' +
    'host and on an image (--root). IPv6 neighbours are not in /proc and are not collected; /proc/net/route shows only ' +
    'the main IPv4 table (policy-routing tables are not seen).',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const procRoot = ctx.host.procRoot;
    if (procRoot !== null) {
      const scan = await scanProcesses(procRoot, { descriptors: false, signal: ctx.signal, sync: ctx.host.live });
      reportScan(ctx, scan);
      for (const ns of namespaceOrder(scan)) {
        if (ctx.signal.aborted) return;
        const initNetns = ns.netns === null || scan.initNetns === null ? null : ns.netns === scan.initNetns;
        const v4 = await readNetFile(ctx, ns, 'route');
        if (v4) {
          const { records, bad } = parseRoutes(v4.data.toString('latin1'));
          reportBad(ctx, v4.hostPath, bad);
          for (const r of records) {
            const row = blankRow('route', v4.hostPath, r.line, ns.netns, initNetns);
            row.family = 'inet';
            row.address = r.destination;
            row.prefixLength = r.prefixLength;
            row.gateway = r.flagNames.includes('GATEWAY') ? r.gateway : null;
            row.interface = r.interface;
            row.metric = r.metric;
            row.flags = r.flagNames;
            yield row;
          }
        }
        const v6 = await readNetFile(ctx, ns, 'ipv6_route');
        if (v6) {
          const { records, bad } = parseIpv6Routes(v6.data.toString('latin1'));
          reportBad(ctx, v6.hostPath, bad);
          for (const r of records) {
            const row = blankRow('route', v6.hostPath, r.line, ns.netns, initNetns);
            row.family = 'inet6';
            row.address = r.destination;
            row.prefixLength = r.prefixLength;
            row.gateway = r.flagNames.includes('GATEWAY') ? r.nextHop : null;
            row.interface = r.interface;
            row.metric = r.metric;
            row.flags = r.flagNames;
            yield row;
          }
        }
        const arp = await readNetFile(ctx, ns, 'arp');
        if (arp) {
          const { records, bad } = parseArp(arp.data.toString('latin1'));
          reportBad(ctx, arp.hostPath, bad);
          for (const r of records) {
            const row = blankRow('neighbour', arp.hostPath, r.line, ns.netns, initNetns);
            row.family = 'inet';
            row.address = r.address;
            row.interface = r.interface;
            row.flags = r.flagNames;
            row.hwAddress = r.hwAddress;
            yield row;
          }
        }
      }
    }

    for (const file of RESOLVER_FILES) {
      const read = await ctx.read(file, { maxBytes: 16 * 1024 * 1024 });
      if (!read) continue;
      for (const e of parseResolvConf(read.data)) yield configRow('resolver', file, e);
    }
    const hosts = await ctx.read('/etc/hosts', { maxBytes: 64 * 1024 * 1024 });
    if (hosts) {
      for (const e of parseHosts(hosts.data)) {
        if (ctx.signal.aborted) return;
        yield configRow('hosts', '/etc/hosts', e);
      }
    }
    const nss = await ctx.read('/etc/nsswitch.conf', { maxBytes: 16 * 1024 * 1024 });
    if (nss) for (const e of parseNsswitch(nss.data)) yield configRow('nsswitch', '/etc/nsswitch.conf', e);
  },
});

// ---------------------------------------------------------------------------
// Configuration file parsers (pure). Lines are split on \n only, so a carriage
// return or other control byte stays in `text` where an analyst can see it.

export interface ConfigLine {
  line: number;
  text: string;
  textBase64: string | null;
  key: string | null;
  address: string | null;
  names: string[];
}

function configLines(data: Buffer, comment: (text: string) => string): { n: number; text: string; base64: string | null; words: string[] }[] {
  const out: { n: number; text: string; base64: string | null; words: string[] }[] = [];
  let start = 0;
  let n = 0;
  while (start < data.length) {
    let end = data.indexOf(0x0a, start);
    if (end === -1) end = data.length;
    n++;
    const raw = data.subarray(start, end);
    start = end + 1;
    const enc = encodeHostPath(raw);
    const words = comment(enc.text).split(/[ \t\r\f\v]+/).filter(Boolean);
    if (words.length === 0) continue;
    out.push({ n, text: enc.text, base64: enc.base64 ?? null, words });
  }
  return out;
}

const hashComment = (t: string) => {
  const i = t.indexOf('#');
  return i < 0 ? t : t.slice(0, i);
};

/** /etc/hosts: "address name [aliases…]"; '#' starts a comment anywhere. */
export function parseHosts(data: Buffer): ConfigLine[] {
  return configLines(data, hashComment).map((l) => ({ line: l.n, text: l.text, textBase64: l.base64, key: null, address: l.words[0]!, names: l.words.slice(1) }));
}

/** resolv.conf: a directive and its words; lines starting with '#' or ';' are comments (resolv.conf(5)). */
export function parseResolvConf(data: Buffer): ConfigLine[] {
  return configLines(data, (t) => (/^[ \t]*[#;]/.test(t) ? '' : t)).map((l) => {
    const key = l.words[0]!;
    const ns = key === 'nameserver';
    return { line: l.n, text: l.text, textBase64: l.base64, key, address: ns ? (l.words[1] ?? null) : null, names: l.words.slice(ns ? 2 : 1) };
  });
}

/** nsswitch.conf: "database: source [ACTION=…] source…". */
export function parseNsswitch(data: Buffer): ConfigLine[] {
  return configLines(data, hashComment).map((l) => {
    const joined = l.words.join(' ');
    const colon = joined.indexOf(':');
    const key = colon < 0 ? l.words[0]! : joined.slice(0, colon).trim();
    const rest = colon < 0 ? l.words.slice(1) : joined.slice(colon + 1).split(' ').filter(Boolean);
    return { line: l.n, text: l.text, textBase64: l.base64, key, address: null, names: rest };
  });
}
