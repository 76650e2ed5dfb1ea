import { promises as fsp, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { encodeHostPath } from '../lib/host-path.js';

/*
 * Parsers for the kernel's network tables under /proc/net (proc(5)). They are
 * pure: text in, records out. Files are decoded as latin1 so every byte
 * survives (unix socket paths and interface names are attacker-chosen bytes).
 * Each parser walks the text line by line with index arithmetic, no
 * backtracking regular expressions, because a busy host has tens of thousands
 * of sockets. A line that does not parse is returned in `bad` with its number,
 * never thrown and never dropped silently.
 *
 * Byte order: /proc/net/{tcp,udp,raw}* print each 32-bit address word with
 * %08X in the CPU's order; these parsers assume a little-endian host (x86-64,
 * aarch64), which is what goldhour runs on. A /proc saved from a big-endian
 * machine would show byte-swapped addresses. ipv6_route and if_inet6 print
 * addresses byte by byte, so they need no swap.
 */

export interface BadLine {
  /** 1-based line number in the file. */
  line: number;
  /** The line, cut to 200 characters. */
  text: string;
}

export interface Parsed<T> {
  records: T[];
  bad: BadLine[];
}

// ---------------------------------------------------------------------------
// Small helpers

/** Calls fn(line, lineNumber) for each line; the final empty line after a trailing newline is not visited. */
function eachLine(text: string, fn: (line: string, n: number) => void): void {
  let start = 0;
  let n = 0;
  const len = text.length;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = len;
    n++;
    fn(text.slice(start, end), n);
    start = end + 1;
  }
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Splits on runs of spaces and tabs. */
export function fields(line: string): string[] {
  const out: string[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const s = i;
    while (i < n && !isBlank(line.charCodeAt(i))) i++;
    out.push(line.slice(s, i));
  }
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Unsigned hex (no prefix) of up to 13 digits, or -1. */
export function hexNumber(s: string, start = 0, end = s.length): number {
  if (end <= start || end - start > 13) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = hexDigit(s.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** Hex with an optional 0x prefix. */
function hex0x(s: string): number {
  return s.startsWith('0x') || s.startsWith('0X') ? hexNumber(s, 2) : hexNumber(s);
}

/** Unsigned decimal of up to 20 digits, or -1. */
export function decNumber(s: string): number {
  const n = s.length;
  if (n === 0 || n > 20) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function bad(line: string, n: number): BadLine {
  return { line: n, text: line.length > 200 ? line.slice(0, 200) : line };
}

/** Text for bytes carried in a latin1 string: unchanged when ASCII, else as encodeHostPath writes them. */
export function latin1Text(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7e || s.charCodeAt(i) < 0x20) return encodeHostPath(Buffer.from(s, 'latin1')).text;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Addresses

/** Bytes of an address printed as hex; `swapWords`: each 32-bit word was printed in little-endian order. */
function hexBytes(s: string, start: number, count: number, swapWords: boolean): number[] | null {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const hi = hexDigit(s.charCodeAt(start + 2 * i));
    const lo = hexDigit(s.charCodeAt(start + 2 * i + 1));
    if (hi < 0 || lo < 0) return null;
    const at = swapWords ? (i & ~3) + (3 - (i & 3)) : i;
    out[at] = hi * 16 + lo;
  }
  return out;
}

export function formatIpv4(b: number[], at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** RFC 5952 text: lower case, longest run of two or more zero groups as ::, IPv4-mapped as ::ffff:a.b.c.d. */
export function formatIpv6(b: number[]): string {
  const g = new Array<number>(8);
  for (let i = 0; i < 8; i++) g[i] = b[2 * i]! * 256 + b[2 * i + 1]!;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return `::ffff:${formatIpv4(b, 12)}`;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = g.map((x) => x!.toString(16));
  if (bestStart < 0) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLen).join(':')}`;
}

/** An IPv4 address as /proc/net/{tcp,udp,route,…} print it: 8 hex digits, little-endian. */
export function procHexIpv4(hex: string): string | null {
  if (hex.length !== 8) return null;
  const b = hexBytes(hex, 0, 4, true);
  return b ? formatIpv4(b) : null;
}

/** An IPv6 address as /proc/net/{tcp6,udp6,raw6} print it: four 32-bit words, each little-endian. */
export function procHexIpv6(hex: string): string | null {
  if (hex.length !== 32) return null;
  const b = hexBytes(hex, 0, 16, true);
  return b ? formatIpv6(b) : null;
}

/** An IPv6 address printed byte by byte (ipv6_route, if_inet6). */
export function hexIpv6(hex: string): string | null {
  if (hex.length !== 32) return null;
  const b = hexBytes(hex, 0, 16, false);
  return b ? formatIpv6(b) : null;
}

// ---------------------------------------------------------------------------
// TCP, UDP, UDP-Lite, raw and ping sockets

export const INET_TABLES = ['tcp', 'tcp6', 'udp', 'udp6', 'udplite', 'udplite6', 'raw', 'raw6', 'icmp', 'icmp6'] as const;
export type InetTable = (typeof INET_TABLES)[number];

/** include/net/tcp_states.h */
const TCP_STATES = [
  'UNKNOWN',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
  'BOUND_INACTIVE',
];

export function inetStateName(table: InetTable, code: number): string {
  const tcp = table === 'tcp' || table === 'tcp6';
  if (!tcp && code === 7) return 'UNCONN';
  return TCP_STATES[code] ?? `UNKNOWN(${code})`;
}

export interface InetSocket {
  table: InetTable;
  family: 'inet' | 'inet6';
  line: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  stateCode: number;
  state: string;
  /** TCP in LISTEN; UDP, raw or ping socket not connected to a peer (it takes datagrams from anyone). */
  listening: boolean;
  txQueue: number;
  rxQueue: number;
  uid: number;
  /** 0 for TIME_WAIT and SYN_RECV entries, which belong to no file descriptor. */
  inode: number;
}

/** Start and end offsets of the first `count` space/tab-separated fields of line[from..to), into pos; returns how many were found. */
function fieldOffsets(text: string, from: number, to: number, count: number, pos: Int32Array): number {
  let i = from;
  let k = 0;
  while (k < count) {
    while (i < to && isBlank(text.charCodeAt(i))) i++;
    if (i >= to) break;
    pos[2 * k] = i;
    while (i < to && !isBlank(text.charCodeAt(i))) i++;
    pos[2 * k + 1] = i;
    k++;
  }
  return k;
}

function hexByte(s: string, at: number): number {
  const hi = hexDigit(s.charCodeAt(at));
  const lo = hexDigit(s.charCodeAt(at + 1));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

const addressCache = new Map<string, string>();

/** An endpoint "AAAAAAAA:PPPP" (or 32 hex digits for IPv6) at text[s..e); null when malformed. */
function endpointAt(text: string, s: number, e: number, v6: boolean, out: { address: string; port: number }): boolean {
  const addrLen = v6 ? 32 : 8;
  if (e - s !== addrLen + 5 || text.charCodeAt(s + addrLen) !== 58 /* : */) return false;
  const port = hexNumber(text, s + addrLen + 1, e);
  if (port < 0) return false;
  // Busy hosts repeat a few local addresses thousands of times: format each once.
  const key = text.slice(s, s + addrLen);
  let addr = addressCache.get(key);
  if (addr === undefined) {
    const b = hexBytes(text, s, v6 ? 16 : 4, true);
    if (!b) return false;
    addr = v6 ? formatIpv6(b) : formatIpv4(b);
    if (addressCache.size >= 20_000) addressCache.clear();
    addressCache.set(key, addr);
  }
  out.address = addr;
  out.port = port;
  return true;
}

function decAt(text: string, s: number, e: number): number {
  if (e <= s || e - s > 20) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

/** /proc/net/tcp, tcp6, udp, udp6, udplite, udplite6, raw, raw6, icmp, icmp6 (all share the layout). */
export function parseInetSockets(text: string, table: InetTable): Parsed<InetSocket> {
  const v6 = table.endsWith('6');
  const tcp = table === 'tcp' || table === 'tcp6';
  const records: InetSocket[] = [];
  const bads: BadLine[] = [];
  const pos = new Int32Array(20);
  const local = { address: '', port: 0 };
  const remote = { address: '', port: 0 };
  const len = text.length;
  let start = 0;
  let n = 0;
  while (start < len) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = len;
    n++;
    const lineStart = start;
    start = end + 1;
    const got = fieldOffsets(text, lineStart, end, 10, pos);
    if (got === 0) continue;
    if (n === 1 && text.startsWith('sl', pos[0]!) && pos[1]! - pos[0]! === 2) continue;
    const ok =
      got === 10 &&
      text.charCodeAt(pos[1]! - 1) === 58 &&
      endpointAt(text, pos[2]!, pos[3]!, v6, local) &&
      endpointAt(text, pos[4]!, pos[5]!, v6, remote);
    const st = ok && pos[7]! - pos[6]! === 2 ? hexByte(text, pos[6]!) : -1;
    let tx = -1;
    let rx = -1;
    if (st >= 0) {
      const qs = pos[8]!;
      const qe = pos[9]!;
      const colon = text.indexOf(':', qs);
      if (colon > qs && colon < qe) {
        tx = hexNumber(text, qs, colon);
        rx = hexNumber(text, colon + 1, qe);
      }
    }
    const uid = rx >= 0 ? decAt(text, pos[14]!, pos[15]!) : -1;
    const inode = uid >= 0 ? decAt(text, pos[18]!, pos[19]!) : -1;
    if (inode < 0) {
      bads.push(bad(text.slice(lineStart, end), n));
      continue;
    }
    records.push({
      table,
      family: v6 ? 'inet6' : 'inet',
      line: n,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      stateCode: st,
      state: inetStateName(table, st),
      listening: tcp ? st === 10 : st === 7,
      txQueue: tx,
      rxQueue: rx,
      uid,
      inode,
    });
  }
  return { records, bad: bads };
}

// ---------------------------------------------------------------------------
// Unix sockets

const SOCKET_TYPES: Record<number, string> = { 1: 'stream', 2: 'dgram', 3: 'raw', 4: 'rdm', 5: 'seqpacket', 6: 'dccp', 10: 'packet' };
export function socketTypeName(code: number): string {
  return SOCKET_TYPES[code] ?? `type${code}`;
}

const UNIX_STATES = ['FREE', 'UNCONNECTED', 'CONNECTING', 'CONNECTED', 'DISCONNECTING'];
const SO_ACCEPTCON = 0x10000;

export interface UnixSocket {
  line: number;
  refCount: number;
  flags: number;
  typeCode: number;
  type: string;
  stateCode: number;
  /** LISTEN when the socket accepts connections, else the socket state (UNCONNECTED, CONNECTED…). */
  state: string;
  listening: boolean;
  inode: number;
  /** The bound name's bytes as the kernel printed them ('@' first for an abstract name, NULs shown as '@'), or null when unbound. */
  path: Buffer | null;
  /** The name starts with '@': abstract namespace (or, rarely, a relative path that starts with '@'). */
  abstract: boolean;
  /** The name held a newline, so it ran over several lines of the file (joined here with \n). */
  multiline: boolean;
}

function isHexRun(s: string, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) if (hexDigit(s.charCodeAt(i)) < 0) return false;
  return true;
}

/**
 * /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path". The path is
 * everything after the single space following the inode, so names with spaces
 * survive. A name holding a newline continues on the next line(s); a line that
 * does not parse right after a named socket is taken as such a continuation.
 */
export function parseUnixSockets(text: string): Parsed<UnixSocket> {
  const records: UnixSocket[] = [];
  const bads: BadLine[] = [];
  let last: UnixSocket | null = null;
  let lastN = -1;
  eachLine(text, (line, n) => {
    if (n === 1 && line.startsWith('Num')) return;
    const rec = unixLine(line, n);
    if (rec) {
      records.push(rec);
      last = rec;
      lastN = n;
      return;
    }
    const prev = last as UnixSocket | null;
    if (prev && prev.path && lastN === n - 1) {
      prev.path = Buffer.concat([prev.path, Buffer.from(`\n${line}`, 'latin1')]);
      prev.multiline = true;
      lastN = n;
      return;
    }
    if (line.trim() !== '') bads.push(bad(line, n));
  });
  return { records, bad: bads };
}

function unixLine(line: string, n: number): UnixSocket | null {
  // Walk the seven fixed fields by position; the rest is the path.
  const len = line.length;
  const starts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  for (let k = 0; k < 7; k++) {
    while (i < len && line.charCodeAt(i) === 32) i++;
    if (i >= len) return null;
    starts.push(i);
    while (i < len && line.charCodeAt(i) !== 32) i++;
    ends.push(i);
  }
  const f = (k: number) => line.slice(starts[k], ends[k]);
  const num = f(0);
  if (!num.endsWith(':') || !isHexRun(num.slice(0, -1), num.length - 1) || num.length < 2) return null;
  const refCount = hexNumber(f(1));
  const flags = hexNumber(f(3));
  const typeCode = hexNumber(f(4));
  const stateCode = hexNumber(f(5));
  const inode = decNumber(f(6));
  if (refCount < 0 || hexNumber(f(2)) < 0 || flags < 0 || typeCode < 0 || stateCode < 0 || inode < 0) return null;
  let path: Buffer | null = null;
  if (i < len) {
    // exactly one space separates the inode from the name
    path = Buffer.from(line.slice(i + 1), 'latin1');
  }
  const listening = (flags & SO_ACCEPTCON) !== 0;
  return {
    line: n,
    refCount,
    flags,
    typeCode,
    type: socketTypeName(typeCode),
    stateCode,
    state: listening ? 'LISTEN' : (UNIX_STATES[stateCode] ?? `UNKNOWN(${stateCode})`),
    listening,
    inode,
    path,
    abstract: path !== null && path[0] === 0x40,
    multiline: false,
  };
}

// ---------------------------------------------------------------------------
// Packet sockets

const ETHER_TYPES: Record<number, string> = {
  0x0000: 'none',
  0x0001: '802.3',
  0x0003: 'all',
  0x0004: '802.2',
  0x0800: 'ipv4',
  0x0806: 'arp',
  0x8035: 'rarp',
  0x8100: '802.1q',
  0x86dd: 'ipv6',
  0x888e: 'eapol',
  0x88a8: '802.1ad',
  0x88cc: 'lldp',
  0x88f7: 'ptp',
};

export function etherTypeName(code: number): string | null {
  return ETHER_TYPES[code] ?? null;
}

export interface PacketSocket {
  line: number;
  refCount: number;
  typeCode: number;
  /** raw (whole frames with link headers) or dgram (link header removed). */
  type: string;
  /** Ethernet protocol it receives; 0x0003 (all) takes every frame: a sniffer. */
  etherProtocol: number;
  etherProtocolName: string | null;
  /** 0 when bound to no interface (all interfaces). */
  ifindex: number;
  running: boolean;
  rmem: number;
  uid: number;
  inode: number;
}

/** /proc/net/packet: "sk RefCnt Type Proto Iface R Rmem User Inode". */
export function parsePacketSockets(text: string): Parsed<PacketSocket> {
  const records: PacketSocket[] = [];
  const bads: BadLine[] = [];
  eachLine(text, (line, n) => {
    const f = fields(line);
    if (f.length === 0) return;
    if (n === 1 && f[0] === 'sk') return;
    if (f.length < 9 || !isHexRun(f[0]!, f[0]!.length)) return void bads.push(bad(line, n));
    const nums = [decNumber(f[1]!), decNumber(f[2]!), hexNumber(f[3]!), decNumber(f[4]!), decNumber(f[5]!), decNumber(f[6]!), decNumber(f[7]!), decNumber(f[8]!)];
    if (nums.some((x) => x < 0)) return void bads.push(bad(line, n));
    const [refCount, typeCode, proto, ifindex, running, rmem, uid, inode] = nums as [number, number, number, number, number, number, number, number];
    records.push({
      line: n,
      refCount,
      typeCode,
      type: socketTypeName(typeCode),
      etherProtocol: proto,
      etherProtocolName: etherTypeName(proto),
      ifindex,
      running: running !== 0,
      rmem,
      uid,
      inode,
    });
  });
  return { records, bad: bads };
}

// ---------------------------------------------------------------------------
// Interfaces

export interface NetDevCounters {
  line: number;
  /** Interface name (attacker-chosen bytes, shown as encodeHostPath text). */
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  rxFifo: number;
  rxFrame: number;
  rxCompressed: number;
  rxMulticast: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
  txFifo: number;
  txCollisions: number;
  txCarrier: number;
  txCompressed: number;
}

const DEV_KEYS = [
  'rxBytes', 'rxPackets', 'rxErrors', 'rxDropped', 'rxFifo', 'rxFrame', 'rxCompressed', 'rxMulticast',
  'txBytes', 'txPackets', 'txErrors', 'txDropped', 'txFifo', 'txCollisions', 'txCarrier', 'txCompressed',
] as const;

/** /proc/net/dev: two header lines, then "name: 16 counters". Names cannot hold ':' (the kernel refuses them). */
export function parseNetDev(text: string): Parsed<NetDevCounters> {
  const records: NetDevCounters[] = [];
  const bads: BadLine[] = [];
  eachLine(text, (line, n) => {
    if (n <= 2 && line.includes('|')) return;
    if (line.trim() === '') return;
    const colon = line.indexOf(':');
    if (colon < 0) return void bads.push(bad(line, n));
    const name = line.slice(0, colon).trim();
    const f = fields(line.slice(colon + 1));
    if (name === '' || f.length < 16) return void bads.push(bad(line, n));
    const rec: Record<string, number | string> = { line: n, name: latin1Text(name) };
    for (let i = 0; i < 16; i++) {
      const v = decNumber(f[i]!);
      if (v < 0) return void bads.push(bad(line, n));
      rec[DEV_KEYS[i]!] = v;
    }
    records.push(rec as unknown as NetDevCounters);
  });
  return { records, bad: bads };
}

export interface IfInet6 {
  line: number;
  address: string;
  ifindex: number;
  prefixLength: number;
  scope: number;
  flags: number;
  interface: string;
}

/** /proc/net/if_inet6: "address ifindex prefixlen scope flags name", hex fields, address byte by byte. */
export function parseIfInet6(text: string): Parsed<IfInet6> {
  const records: IfInet6[] = [];
  const bads: BadLine[] = [];
  eachLine(text, (line, n) => {
    const f = fields(line);
    if (f.length === 0) return;
    const address = f.length >= 6 ? hexIpv6(f[0]!) : null;
    const nums = f.slice(1, 5).map((x) => hexNumber(x));
    if (!address || nums.length < 4 || nums.some((x) => x < 0)) return void bads.push(bad(line, n));
    records.push({ line: n, address, ifindex: nums[0]!, prefixLength: nums[1]!, scope: nums[2]!, flags: nums[3]!, interface: latin1Text(f.slice(5).join(' ')) });
  });
  return { records, bad: bads };
}

/** Interface indexes and names from /proc/net/igmp ("Idx Device : …" rows) and /proc/net/dev_mcast ("idx name …"). */
export function parseIfIndexes(igmp: string | null, devMcast: string | null): Map<number, string> {
  const map = new Map<number, string>();
  if (igmp) {
    eachLine(igmp, (line) => {
      const c = line.charCodeAt(0);
      if (!(c >= 48 && c <= 57)) return;
      const f = fields(line);
      const idx = decNumber(f[0]!);
      if (idx < 0 || f.length < 2) return;
      let name = f[1]!;
      if (name.endsWith(':')) name = name.slice(0, -1);
      map.set(idx, latin1Text(name));
    });
  }
  if (devMcast) {
    eachLine(devMcast, (line) => {
      const f = fields(line);
      const idx = f.length >= 2 ? decNumber(f[0]!) : -1;
      if (idx >= 0 && !map.has(idx)) map.set(idx, latin1Text(f[1]!));
    });
  }
  return map;
}

/** Local IPv4 addresses ("/32 host LOCAL" leaves) from /proc/net/fib_trie, in order, without duplicates. */
export function parseFibTrieLocal(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let current: string | null = null;
  eachLine(text, (line) => {
    const t = line.trim();
    if (t.startsWith('|-- ')) {
      current = t.slice(4).trim();
      return;
    }
    if (current && t.startsWith('/32 host LOCAL')) {
      if (!seen.has(current)) {
        seen.add(current);
        out.push(current);
      }
    }
  });
  return out;
}

/** include/uapi/linux/if.h */
const IFF_NAMES: [number, string][] = [
  [0x1, 'UP'], [0x2, 'BROADCAST'], [0x4, 'DEBUG'], [0x8, 'LOOPBACK'], [0x10, 'POINTOPOINT'], [0x20, 'NOTRAILERS'],
  [0x40, 'RUNNING'], [0x80, 'NOARP'], [0x100, 'PROMISC'], [0x200, 'ALLMULTI'], [0x400, 'MASTER'], [0x800, 'SLAVE'],
  [0x1000, 'MULTICAST'], [0x2000, 'PORTSEL'], [0x4000, 'AUTOMEDIA'], [0x8000, 'DYNAMIC'], [0x10000, 'LOWER_UP'],
  [0x20000, 'DORMANT'], [0x40000, 'ECHO'],
];
export const IFF_PROMISC = 0x100;

export function interfaceFlagNames(flags: number): string[] {
  return IFF_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

// ---------------------------------------------------------------------------
// Routes and neighbours

const RTF_NAMES: [number, string][] = [
  [0x1, 'UP'], [0x2, 'GATEWAY'], [0x4, 'HOST'], [0x8, 'REINSTATE'], [0x10, 'DYNAMIC'], [0x20, 'MODIFIED'],
  [0x200, 'REJECT'], [0x10000, 'DEFAULT'], [0x40000, 'ADDRCONF'], [0x80000, 'PREFIX_RT'], [0x100000, 'ANYCAST'],
  [0x200000, 'NONEXTHOP'], [0x400000, 'EXPIRES'], [0x1000000, 'CACHE'], [0x80000000, 'LOCAL'],
];

export function routeFlagNames(flags: number): string[] {
  // flags can reach 0x80000000: test bits with division, not 32-bit &, which is signed
  return RTF_NAMES.filter(([bit]) => Math.floor(flags / bit) % 2 === 1).map(([, name]) => name);
}

function maskPrefix(mask: number[]): number | null {
  let len = 0;
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && ended) return null;
      if (set) len++;
      else ended = true;
    }
  }
  return len;
}

export interface Ipv4Route {
  line: number;
  interface: string;
  destination: string;
  gateway: string;
  flags: number;
  flagNames: string[];
  refCount: number;
  use: number;
  metric: number;
  mask: string;
  /** Null for a non-contiguous mask. */
  prefixLength: number | null;
  mtu: number;
  window: number;
  irtt: number;
}

/** /proc/net/route: "Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT" (main table only). */
export function parseRoutes(text: string): Parsed<Ipv4Route> {
  const records: Ipv4Route[] = [];
  const bads: BadLine[] = [];
  eachLine(text, (line, n) => {
    const f = fields(line);
    if (f.length === 0) return;
    if (n === 1 && f[0] === 'Iface') return;
    if (f.length < 11) return void bads.push(bad(line, n));
    const dest = f[1]!.length === 8 ? hexBytes(f[1]!, 0, 4, true) : null;
    const gw = f[2]!.length === 8 ? hexBytes(f[2]!, 0, 4, true) : null;
    const mask = f[7]!.length === 8 ? hexBytes(f[7]!, 0, 4, true) : null;
    const flags = hexNumber(f[3]!);
    const nums = [f[4], f[5], f[6], f[8], f[9], f[10]].map((x) => decNumber(x!));
    if (!dest || !gw || !mask || flags < 0 || nums.some((x) => x < 0)) return void bads.push(bad(line, n));
    records.push({
      line: n,
      interface: latin1Text(f[0]!),
      destination: formatIpv4(dest),
      gateway: formatIpv4(gw),
      flags,
      flagNames: routeFlagNames(flags),
      refCount: nums[0]!,
      use: nums[1]!,
      metric: nums[2]!,
      mask: formatIpv4(mask),
      prefixLength: maskPrefix(mask),
      mtu: nums[3]!,
      window: nums[4]!,
      irtt: nums[5]!,
    });
  });
  return { records, bad: bads };
}

export interface Ipv6Route {
  line: number;
  destination: string;
  prefixLength: number;
  source: string;
  sourcePrefixLength: number;
  nextHop: string;
  metric: number;
  refCount: number;
  use: number;
  flags: number;
  flagNames: string[];
  interface: string;
}

/** /proc/net/ipv6_route: "dest plen src plen nexthop metric refcnt use flags iface", hex, addresses byte by byte. */
export function parseIpv6Routes(text: string): Parsed<Ipv6Route> {
  const records: Ipv6Route[] = [];
  const bads: BadLine[] = [];
  eachLine(text, (line, n) => {
    const f = fields(line);
    if (f.length === 0) return;
    if (f.length < 10) return void bads.push(bad(line, n));
    const dest = hexIpv6(f[0]!);
    const src = hexIpv6(f[2]!);
    const hop = hexIpv6(f[4]!);
    const nums = [f[1], f[3], f[5], f[6], f[7], f[8]].map((x) => (x!.length <= 8 ? hexNumber(x!) : -1));
    if (!dest || !src || !hop || nums.some((x) => x < 0)) return void bads.push(bad(line, n));
    records.push({
      line: n,
      destination: dest,
      prefixLength: nums[0]!,
      source: src,
      sourcePrefixLength: nums[1]!,
      nextHop: hop,
      metric: nums[2]!,
      refCount: nums[3]!,
      use: nums[4]!,
      flags: nums[5]!,
      flagNames: routeFlagNames(nums[5]!),
      interface: latin1Text(f.slice(9).join(' ')),
    });
  });
  return { records, bad: bads };
}

const ATF_NAMES: [number, string][] = [[0x2, 'COMPLETE'], [0x4, 'PERMANENT'], [0x8, 'PUBLISHED'], [0x10, 'USETRAILERS'], [0x20, 'NETMASK'], [0x40, 'DONTPUB']];

export interface ArpEntry {
  line: number;
  address: string;
  hwType: number;
  flags: number;
  /** COMPLETE (resolved), PERMANENT (set by hand: a static entry), PUBLISHED (proxy ARP); none while incomplete. */
  flagNames: string[];
  hwAddress: string;
  mask: string;
  interface: string;
}

/** /proc/net/arp: "IP address HW type Flags HW address Mask Device". */
export function parseArp(text: string): Parsed<ArpEntry> {
  const records: ArpEntry[] = [];
  const bads: BadLine[] = [];
  eachLine(text, (line, n) => {
    const f = fields(line);
    if (f.length === 0) return;
    if (n === 1 && f[0] === 'IP') return;
    const hwType = f.length >= 6 ? hex0x(f[1]!) : -1;
    const flags = f.length >= 6 ? hex0x(f[2]!) : -1;
    if (hwType < 0 || flags < 0 || !isDottedQuad(f[0]!)) return void bads.push(bad(line, n));
    records.push({
      line: n,
      address: f[0]!,
      hwType,
      flags,
      flagNames: ATF_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name),
      hwAddress: f[3]!.toLowerCase(),
      mask: f[4]!,
      interface: latin1Text(f.slice(5).join(' ')),
    });
  });
  return { records, bad: bads };
}

function isDottedQuad(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => p.length > 0 && p.length <= 3 && decNumber(p) >= 0 && decNumber(p) <= 255);
}

/** Whether dotted-quad `addr` lies in `dest`/`prefix` (both IPv4 text). */
export function ipv4InPrefix(addr: string, dest: string, prefix: number): boolean {
  if (!isDottedQuad(addr) || !isDottedQuad(dest) || prefix < 0 || prefix > 32) return false;
  const num = (s: string) => s.split('.').reduce((v, p) => v * 256 + Number(p), 0);
  const size = 2 ** (32 - prefix);
  return Math.floor(num(addr) / size) === Math.floor(num(dest) / size);
}

/** The namespace inode in a /proc/PID/ns/net link ("net:[4026531833]"), or null. */
export function netnsInode(link: string): number | null {
  if (!link.startsWith('net:[') || !link.endsWith(']')) return null;
  const v = decNumber(link.slice(5, -1));
  return v < 0 ? null : v;
}

/** The inode in a /proc/PID/fd link that names a socket ("socket:[12345]"), or null. */
export function socketInode(link: string): number | null {
  if (!link.startsWith('socket:[') || !link.endsWith(']')) return null;
  const v = decNumber(link.slice(8, -1));
  return v < 0 ? null : v;
}

// ---------------------------------------------------------------------------
// One pass over the processes: network namespaces and socket descriptors

export interface SocketOwner {
  pid: number;
  fd: number;
}

export interface ProcessScan {
  /** Network namespace inode → live pids in it, ascending. */
  namespaces: Map<number, number[]>;
  /** The host's own network namespace: pid 1's, else kthreadd's (pid 2) when pid 1 cannot be read. */
  initNetns: number | null;
  /** Socket inode → the descriptors that hold it (only when asked for descriptors). */
  owners: Map<number, SocketOwner[]>;
  /** How many processes were listed. */
  processes: number;
  /** Processes whose namespace link or descriptors could not be read for lack of privilege. */
  denied: number[];
  /** Processes that exited while being read. */
  vanished: number;
  /** Other failures: path, errno code. */
  failures: { path: string; code: string }[];
}

export interface ScanOptions {
  /** Also read every /proc/PID/fd link to find who holds which socket. */
  descriptors: boolean;
  signal: AbortSignal;
  concurrency?: number;
  /**
   * Use synchronous system calls (in slices, yielding to the event loop between
   * them). Three to four times faster on the live /proc, where readdir and
   * readlink never wait on a device; leave it off for a saved /proc on a disk.
   */
  sync?: boolean;
}

export interface ProcFs {
  readdir(p: string): Promise<string[]>;
  readlink(p: string): Promise<string>;
  readFile(p: string): Promise<Buffer>;
}

/**
 * Lists the processes under a /proc directory (the live one or a saved copy)
 * and, for each, reads its network namespace link and (optionally) its
 * descriptor links, a bounded number of processes at a time. A process that
 * exits mid-scan is counted, not reported; a permission error is collected.
 */
export async function scanProcesses(procRoot: string, opts: ScanOptions, fs: ProcFs = opts.sync ? syncProcFs() : defaultProcFs()): Promise<ProcessScan> {
  const scan: ProcessScan = { namespaces: new Map(), initNetns: null, owners: new Map(), processes: 0, denied: [], vanished: 0, failures: [] };
  let names: string[];
  try {
    names = await fs.readdir(procRoot);
  } catch (err) {
    scan.failures.push({ path: procRoot, code: errCode(err) });
    return scan;
  }
  const pids = names.map(decNumber).filter((p) => p > 0).sort((a, b) => a - b);
  scan.processes = pids.length;
  const deniedSet = new Set<number>();
  const one = async (pid: number) => {
    const dir = `${procRoot}/${pid}`;
    let ns: number | null = null;
    try {
      ns = netnsInode(await fs.readlink(`${dir}/ns/net`));
    } catch (err) {
      const code = errCode(err);
      if (code === 'ENOENT' || code === 'ESRCH') {
        // exited, or a saved /proc without namespace links: still look at its descriptors
        if (!(await exists(fs, dir))) return void scan.vanished++;
      } else if (code === 'EACCES' || code === 'EPERM') deniedSet.add(pid);
      else scan.failures.push({ path: `/proc/${pid}/ns/net`, code });
    }
    if (ns !== null) {
      const list = scan.namespaces.get(ns);
      if (list) list.push(pid);
      else scan.namespaces.set(ns, [pid]);
      if (pid === 1) scan.initNetns = ns;
    }
    if (!opts.descriptors) return;
    let fds: string[];
    try {
      fds = await fs.readdir(`${dir}/fd`);
    } catch (err) {
      const code = errCode(err);
      if (code === 'EACCES' || code === 'EPERM') deniedSet.add(pid);
      else if (code === 'ENOENT' || code === 'ESRCH') scan.vanished++;
      else scan.failures.push({ path: `/proc/${pid}/fd`, code });
      return;
    }
    for (const name of fds) {
      const fd = decNumber(name);
      if (fd < 0) continue;
      let link: string;
      try {
        link = await fs.readlink(`${dir}/fd/${name}`);
      } catch {
        continue; // descriptor closed (or process gone) between readdir and readlink
      }
      const inode = socketInode(link);
      if (inode === null) continue;
      const list = scan.owners.get(inode);
      if (list) list.push({ pid, fd });
      else scan.owners.set(inode, [{ pid, fd }]);
    }
  };
  await pool(pids, opts.concurrency ?? 8, one, opts.signal);
  if (scan.initNetns === null) {
    // pid 1 may be shielded (a hardened or sandboxed init); kernel threads live in the initial namespace too
    const kthreadd = [...scan.namespaces].find(([, list]) => list.includes(2));
    if (kthreadd && (await fs.readFile(`${procRoot}/2/comm`).then((b) => b.toString() === 'kthreadd\n', () => false))) scan.initNetns = kthreadd[0];
  }
  for (const list of scan.namespaces.values()) list.sort((a, b) => a - b);
  for (const list of scan.owners.values()) list.sort((a, b) => a.pid - b.pid || a.fd - b.fd);
  scan.denied = [...deniedSet].sort((a, b) => a - b);
  return scan;
}

async function exists(fs: ProcFs, dir: string): Promise<boolean> {
  try {
    await fs.readdir(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs fn over items with at most `limit` at once; stops starting new ones once
 * the signal fires. Every 64 items it yields to the event loop, so work made of
 * synchronous calls still lets timers and the abort signal through.
 */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const item = items[next++]!;
      await fn(item);
      if (next % 64 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
}

function syncProcFs(): ProcFs {
  const wrap =
    <A, R>(f: (a: A) => R) =>
    (a: A): Promise<R> => {
      try {
        return Promise.resolve(f(a));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  return {
    readdir: wrap((p: string) => readdirSync(p)),
    readlink: wrap((p: string) => readlinkSync(p)),
    readFile: wrap((p: string) => readFileSync(p)),
  };
}

function defaultProcFs(): ProcFs {
  return {
    readdir: (p) => fsp.readdir(p),
    readlink: (p) => fsp.readlink(p),
    readFile: (p) => fsp.readFile(p),
  };
}
