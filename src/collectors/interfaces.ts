import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import {
  IFF_PROMISC,
  interfaceFlagNames,
  ipv4InPrefix,
  parseFibTrieLocal,
  parseIfIndexes,
  parseIfInet6,
  parseNetDev,
  parseRoutes,
  scanProcesses,
  type NetDevCounters,
} from '../host/proc-net.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';
import { namespaceOrder, readNetFile, reportBad, reportScan } from './sockets.js';

const Row = z.object({
  netns: z.number().int().nullable().describe('network namespace inode; null for a saved /proc/net without namespace links'),
  initNetns: z.boolean().nullable().describe("whether that namespace is the host's own (pid 1's)"),
  name: z.string().describe('interface name (eth0, lo, veth…, tun0); attacker-chosen for interfaces an intruder made'),
  ifindex: z.number().int().nullable().describe('interface index, when known'),
  macAddress: z.string().nullable().describe('link-layer address from sysfs (the collector\'s own namespace only)'),
  mtu: z.number().int().nullable().describe('MTU from sysfs'),
  operState: z.string().nullable().describe('operational state from sysfs: up, down, unknown, dormant…'),
  flags: z.number().int().nullable().describe('interface flags word from sysfs (IFF_*)'),
  flagNames: z.array(z.string()).describe('those flags by name: UP, BROADCAST, LOOPBACK, RUNNING, PROMISC, ALLMULTI…'),
  up: z.boolean().nullable().describe('administratively up (IFF_UP)'),
  promiscuous: z.boolean().nullable().describe('IFF_PROMISC: the interface takes every frame on the wire, as a sniffer sets it (tcpdump included); null where sysfs is not available'),
  linkType: z.number().int().nullable().describe('ARPHRD link type from sysfs: 1 Ethernet, 772 loopback, 65534 none (tun), 776 sit…'),
  ipv4Addresses: z.array(z.string()).describe('local IPv4 addresses (from fib_trie) that fall in a connected route of this interface; 127.x goes to lo'),
  ipv6Addresses: z.array(z.string()).describe('IPv6 addresses with prefix length, from if_inet6'),
  rxBytes: z.number().nullable().describe('bytes received (/proc/net/dev)'),
  rxPackets: z.number().nullable().describe('packets received'),
  rxErrors: z.number().nullable().describe('receive errors'),
  rxDropped: z.number().nullable().describe('received packets dropped'),
  rxMulticast: z.number().nullable().describe('multicast packets received'),
  txBytes: z.number().nullable().describe('bytes sent'),
  txPackets: z.number().nullable().describe('packets sent'),
  txErrors: z.number().nullable().describe('send errors'),
  txDropped: z.number().nullable().describe('sent packets dropped'),
  sources: z.array(z.string()).describe('the files this row was built from'),
});

type IfRow = z.infer<typeof Row>;

export const interfacesCollector = defineCollector({
  name: 'interfaces',
  title: 'Network interfaces',
  description:
    'Every network interface of every namespace a process lives in, with its addresses, state and traffic counters, ' +
    'read from /proc/PID/net/dev, if_inet6 and fib_trie and (for the namespace goldhour runs in) /sys/class/net, not ' +
    'from `ip` or `ifconfig`. Look for a promiscuous interface (a sniffer), tunnels and bridges nobody set up (tun, ' +
    'gre, vxlan, wg), interfaces in namespaces other than the host\'s, addresses the network team does not know, and ' +
    'traffic counters far above what the host\'s role explains (exfiltration). Raw copies of the /proc tables are kept.',
  preconditions:
    'Live host, or a saved /proc (--proc) for names, addresses and counters. MAC address, MTU, flags and the promiscuous ' +
    'flag come from sysfs and are known only for the namespace goldhour runs in. An image (--root) without /proc gives ' +
    'no rows.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const procRoot = ctx.host.procRoot;
    if (procRoot === null) return;
    const scan = await scanProcesses(procRoot, { descriptors: false, signal: ctx.signal, sync: ctx.host.live });
    reportScan(ctx, scan);
    const ownNetns = ctx.host.live ? await fsp.readlink('/proc/self/ns/net').then((l) => l, () => null) : null;
    for (const ns of namespaceOrder(scan)) {
      if (ctx.signal.aborted) return;
      const rows = new Map<string, IfRow>();
      const row = (name: string): IfRow => {
        let r = rows.get(name);
        if (!r) {
          r = {
            netns: ns.netns,
            initNetns: ns.netns === null || scan.initNetns === null ? null : ns.netns === scan.initNetns,
            name,
            ifindex: null,
            macAddress: null,
            mtu: null,
            operState: null,
            flags: null,
            flagNames: [],
            up: null,
            promiscuous: null,
            linkType: null,
            ipv4Addresses: [],
            ipv6Addresses: [],
            rxBytes: null,
            rxPackets: null,
            rxErrors: null,
            rxDropped: null,
            rxMulticast: null,
            txBytes: null,
            txPackets: null,
            txErrors: null,
            txDropped: null,
            sources: [],
          };
          rows.set(name, r);
        }
        return r;
      };

      const dev = await readNetFile(ctx, ns, 'dev');
      if (dev) {
        const { records, bad } = parseNetDev(dev.data.toString('latin1'));
        reportBad(ctx, dev.hostPath, bad);
        for (const d of records) Object.assign(row(d.name), counters(d), { sources: [dev.hostPath] });
      }
      const inet6 = await readNetFile(ctx, ns, 'if_inet6');
      const indexes = new Map<number, string>();
      if (inet6) {
        const { records, bad } = parseIfInet6(inet6.data.toString('latin1'));
        reportBad(ctx, inet6.hostPath, bad);
        for (const a of records) {
          const r = row(a.interface);
          r.ipv6Addresses.push(`${a.address}/${a.prefixLength}`);
          r.ifindex = a.ifindex;
          indexes.set(a.ifindex, a.interface);
          addSource(r, inet6.hostPath);
        }
      }
      const igmp = await readNetFile(ctx, ns, 'igmp', false);
      const mcast = await readNetFile(ctx, ns, 'dev_mcast', false);
      for (const [idx, name] of parseIfIndexes(igmp?.data.toString('latin1') ?? null, mcast?.data.toString('latin1') ?? null)) {
        if (!indexes.has(idx)) indexes.set(idx, name);
      }
      for (const [idx, name] of indexes) if (rows.has(name)) row(name).ifindex = idx;

      const trie = await readNetFile(ctx, ns, 'fib_trie');
      const route = await readNetFile(ctx, ns, 'route', false);
      if (trie) {
        const locals = parseFibTrieLocal(trie.data.toString('latin1'));
        const connected = route ? parseRoutes(route.data.toString('latin1')).records.filter((r) => !r.flagNames.includes('GATEWAY') && r.prefixLength !== null && r.interface !== '*') : [];
        for (const addr of locals) {
          const name = attributeIpv4(addr, connected, rows);
          if (!name) continue;
          const r = row(name);
          r.ipv4Addresses.push(addr);
          addSource(r, trie.hostPath);
        }
      }

      if (ownNetns !== null && ns.netns !== null && ownNetns === `net:[${ns.netns}]`) await addSysfs(ctx, row);
      for (const r of [...rows.values()].sort((a, b) => (a.ifindex ?? 1e9) - (b.ifindex ?? 1e9) || a.name.localeCompare(b.name))) yield r;
    }
  },
});

function counters(d: NetDevCounters): Partial<IfRow> {
  return {
    rxBytes: d.rxBytes,
    rxPackets: d.rxPackets,
    rxErrors: d.rxErrors,
    rxDropped: d.rxDropped,
    rxMulticast: d.rxMulticast,
    txBytes: d.txBytes,
    txPackets: d.txPackets,
    txErrors: d.txErrors,
    txDropped: d.txDropped,
  };
}

function addSource(r: IfRow, src: string): void {
  if (!r.sources.includes(src)) r.sources.push(src);
}

/** The interface whose connected route holds the address (longest prefix); 127/8 goes to lo. */
export function attributeIpv4(addr: string, connected: { interface: string; destination: string; prefixLength: number | null }[], known: Map<string, unknown>): string | null {
  let best: string | null = null;
  let bestLen = -1;
  for (const r of connected) {
    if (r.prefixLength !== null && r.prefixLength > bestLen && ipv4InPrefix(addr, r.destination, r.prefixLength)) {
      best = r.interface;
      bestLen = r.prefixLength;
    }
  }
  if (best === null && addr.startsWith('127.') && known.has('lo')) best = 'lo';
  return best;
}

/** MAC, MTU, state, flags and link type of the collector's own namespace, from /sys/class/net. */
async function addSysfs(ctx: CollectorContext, row: (name: string) => IfRow): Promise<void> {
  let names: Buffer[];
  try {
    names = await fsp.readdir('/sys/class/net', { encoding: 'buffer' });
  } catch {
    return; // no sysfs mounted: the /proc facts stand alone
  }
  for (const raw of names) {
    if (ctx.signal.aborted) return;
    const name = encodeHostPath(raw);
    if (name.base64 || name.text.includes('/')) continue; // not readable through a text path; /proc rows still list it
    const dir = `/sys/class/net/${name.text}`;
    const attr = async (a: string) => {
      const read = await ctx.read(`${dir}/${a}`, { keep: false, maxBytes: 4096 });
      return read ? read.data.toString('utf8').trim() : null;
    };
    const r = row(name.text);
    const flags = parseIntOrNull(await attr('flags'));
    r.macAddress = await attr('address');
    r.mtu = parseIntOrNull(await attr('mtu'));
    r.operState = await attr('operstate');
    r.flags = flags;
    r.flagNames = flags === null ? [] : interfaceFlagNames(flags);
    r.up = flags === null ? null : (flags & 1) !== 0;
    r.promiscuous = flags === null ? null : (flags & IFF_PROMISC) !== 0;
    r.linkType = parseIntOrNull(await attr('type'));
    r.ifindex = parseIntOrNull(await attr('ifindex')) ?? r.ifindex;
    addSource(r, dir);
  }
}

function parseIntOrNull(s: string | null): number | null {
  if (s === null || s === '') return null;
  const v = s.startsWith('0x') ? Number.parseInt(s.slice(2), 16) : Number.parseInt(s, 10);
  return Number.isFinite(v) ? v : null;
}
