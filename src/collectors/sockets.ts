import { constants as C, promises as fsp, type Stats } from 'node:fs';
import { z } from 'zod';
import { HostReadError, type Host, type ReadResult } from '../host/host.js';
import { parsePasswd, userNames } from '../host/passwd.js';
import {
  INET_TABLES,
  type BadLine,
  type InetTable,
  latin1Text,
  netnsInode,
  parseIfIndexes,
  parseInetSockets,
  parsePacketSockets,
  parseUnixSockets,
  pool,
  scanProcesses,
  type ProcessScan,
  type SocketOwner,
} from '../host/proc-net.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';

const Owner = z.object({
  pid: z.number().int().describe('process holding the socket'),
  fd: z.number().int().describe('its descriptor number'),
  comm: z.string().nullable().describe('process name from /proc/PID/comm at scan time (attacker-controlled)'),
});

const Row = z.object({
  netns: z.number().int().nullable().describe('network namespace inode, the number in /proc/PID/ns/net; null for a saved /proc/net without namespace links'),
  initNetns: z.boolean().nullable().describe("whether that namespace is pid 1's, the host's own; false means a container or a namespace someone made"),
  protocol: z.enum(['tcp', 'udp', 'udplite', 'raw', 'icmp', 'unix', 'packet']).describe('tcp, udp, udplite, raw (raw IP), icmp (ping sockets), unix or packet (link-layer)'),
  family: z.enum(['inet', 'inet6', 'unix', 'packet']).describe('address family: inet (IPv4), inet6 (IPv6, which may also carry IPv4-mapped addresses), unix, packet'),
  socketType: z.string().describe('stream, dgram, raw, seqpacket…'),
  state: z.string().describe('TCP state (LISTEN, ESTABLISHED, TIME_WAIT…); UNCONN for a UDP/raw socket with no peer; for unix LISTEN, CONNECTED, UNCONNECTED…'),
  stateCode: z.number().int().nullable().describe('the state number as the kernel printed it (null for packet sockets)'),
  listening: z.boolean().describe('takes connections or packets from anyone: TCP LISTEN, UDP/raw/ping with no peer, unix sockets that accept connections, packet sockets that are running'),
  localAddress: z.string().nullable().describe('local IP address (IPv6 in RFC 5952 form)'),
  localPort: z.number().int().nullable().describe('local port; for raw sockets the IP protocol number'),
  remoteAddress: z.string().nullable().describe('peer IP address; 0.0.0.0 or :: when there is none'),
  remotePort: z.number().int().nullable().describe('peer port, 0 when there is none'),
  path: z.string().nullable().describe("unix socket name as the kernel shows it: '@' first for an abstract name (NULs also shown as '@'); null when unbound"),
  pathBase64: z.string().nullable().describe('the exact name bytes in base64 when they are not valid UTF-8 (path then shows them as %XX)'),
  abstract: z.boolean().nullable().describe("unix: the name is in the abstract namespace (starts with '@'), which leaves no file on disk"),
  etherProtocol: z.number().int().nullable().describe('packet: Ethernet protocol received; 3 (all) sees every frame'),
  etherProtocolName: z.string().nullable().describe('packet: name of that protocol (all, ipv4, arp, ipv6…)'),
  interfaceIndex: z.number().int().nullable().describe('packet: interface index it is bound to; 0 means every interface'),
  interface: z.string().nullable().describe('packet: name of that interface, when known'),
  uid: z.number().int().nullable().describe('owner uid the kernel records (not for unix sockets)'),
  user: z.string().nullable().describe("that uid's name in /etc/passwd"),
  inode: z.number().int().describe('socket inode; 0 for TIME_WAIT and half-open entries that no descriptor holds'),
  txQueue: z.number().int().nullable().describe('bytes waiting to be sent (inet)'),
  rxQueue: z.number().int().nullable().describe('bytes waiting to be read (inet); for LISTEN, connections waiting to be accepted'),
  pids: z.array(z.number().int()).describe('processes holding the socket; empty when none was found (closed meanwhile, hidden, or kernel-owned)'),
  owners: z.array(Owner).describe('each descriptor that holds the socket: pid, fd and process name'),
  source: z.string().describe('the /proc file the row came from'),
  line: z.number().int().describe('line number in that file'),
});

type SocketRow = z.infer<typeof Row>;

const INET_PROTOCOL: Record<InetTable, { protocol: SocketRow['protocol']; type: string }> = {
  tcp: { protocol: 'tcp', type: 'stream' },
  tcp6: { protocol: 'tcp', type: 'stream' },
  udp: { protocol: 'udp', type: 'dgram' },
  udp6: { protocol: 'udp', type: 'dgram' },
  udplite: { protocol: 'udplite', type: 'dgram' },
  udplite6: { protocol: 'udplite', type: 'dgram' },
  raw: { protocol: 'raw', type: 'raw' },
  raw6: { protocol: 'raw', type: 'raw' },
  icmp: { protocol: 'icmp', type: 'dgram' },
  icmp6: { protocol: 'icmp', type: 'dgram' },
};

const PROC_NET_MAX = 256 * 1024 * 1024;

export const socketsCollector = defineCollector({
  name: 'sockets',
  title: 'Network sockets',
  description:
    'Every TCP, UDP, UDP-Lite, raw, ping, unix and packet socket the kernel lists in /proc/net, in every network namespace ' +
    'that a process lives in, with the processes and descriptors that hold each one (found through /proc/PID/fd, not ' +
    'netstat, ss or lsof). Look for listeners nobody expects (a bind shell), ESTABLISHED connections to unknown ' +
    'addresses (a reverse shell or C2), raw and packet sockets (sniffers, and backdoors such as BPFDoor that wake on a ' +
    'magic packet), sockets in a namespace other than the host\'s, abstract unix names used by malware as a mutex, and ' +
    'sockets that no visible process holds (a hidden process). The raw /proc/net tables of each namespace are kept.',
  preconditions:
    'Live host as root (without root, other users\' descriptors and namespaces cannot be read: sockets still appear, ' +
    'without owners). A saved /proc (--proc) works if it kept net/ and the PID/fd and PID/ns links. On --root without ' +
    '--proc there are no sockets. Namespaces with no process in them (e.g. created by `ip netns add` and left empty) are ' +
    'not seen; a thread that moved to another namespace is not followed.',
  timeoutMs: 60_000,
  row: Row,
  async *collect(ctx) {
    const procRoot = ctx.host.procRoot;
    if (procRoot === null) return;
    const scan = await scanProcesses(procRoot, { descriptors: true, signal: ctx.signal, sync: ctx.host.live });
    reportScan(ctx, scan, true);
    const users = await readUsers(ctx);
    const comms = await readComms(procRoot, scan, ctx.signal);
    const ownersOf = (inode: number) => {
      const list: SocketOwner[] = inode === 0 ? [] : (scan.owners.get(inode) ?? []);
      return {
        pids: [...new Set(list.map((o) => o.pid))],
        owners: list.map((o) => ({ pid: o.pid, fd: o.fd, comm: comms.get(o.pid) ?? null })),
      };
    };

    for (const ns of namespaceOrder(scan)) {
      // Rows are written out property by property: an object literal that starts with a
      // spread (`{ ...common, … }`) takes V8 some 50 µs to build, a second per 20,000 sockets.
      const netns = ns.netns;
      const initNetns = ns.netns === null || scan.initNetns === null ? null : ns.netns === scan.initNetns;
      for (const table of INET_TABLES) {
        if (ctx.signal.aborted) return;
        const read = await readNetFile(ctx, ns, table);
        if (!read) continue;
        const { records, bad } = parseInetSockets(read.data.toString('latin1'), table);
        reportBad(ctx, read.hostPath, bad);
        const { protocol, type } = INET_PROTOCOL[table];
        for (const s of records) {
          const own = ownersOf(s.inode);
          yield {
            netns,
            initNetns,
            protocol,
            family: s.family,
            socketType: type,
            state: s.state,
            stateCode: s.stateCode,
            listening: s.listening,
            localAddress: s.localAddress,
            localPort: s.localPort,
            remoteAddress: s.remoteAddress,
            remotePort: s.remotePort,
            path: null,
            pathBase64: null,
            abstract: null,
            etherProtocol: null,
            etherProtocolName: null,
            interfaceIndex: null,
            interface: null,
            uid: s.uid,
            user: users.get(s.uid) ?? null,
            inode: s.inode,
            txQueue: s.txQueue,
            rxQueue: s.rxQueue,
            pids: own.pids,
            owners: own.owners,
            source: read.hostPath,
            line: s.line,
          } satisfies SocketRow;
        }
      }

      const unix = await readNetFile(ctx, ns, 'unix');
      if (unix) {
        const { records, bad } = parseUnixSockets(unix.data.toString('latin1'));
        reportBad(ctx, unix.hostPath, bad);
        for (const s of records) {
          if (ctx.signal.aborted) return;
          const name = s.path ? encodeHostPath(s.path) : null;
          const own = ownersOf(s.inode);
          yield {
            netns,
            initNetns,
            protocol: 'unix',
            family: 'unix',
            socketType: s.type,
            state: s.state,
            stateCode: s.stateCode,
            listening: s.listening,
            localAddress: null,
            localPort: null,
            remoteAddress: null,
            remotePort: null,
            path: name?.text ?? null,
            pathBase64: name?.base64 ?? null,
            abstract: s.path ? s.abstract : null,
            etherProtocol: null,
            etherProtocolName: null,
            interfaceIndex: null,
            interface: null,
            uid: null,
            user: null,
            inode: s.inode,
            txQueue: null,
            rxQueue: null,
            pids: own.pids,
            owners: own.owners,
            source: unix.hostPath,
            line: s.line,
          } satisfies SocketRow;
        }
      }

      const packet = await readNetFile(ctx, ns, 'packet');
      if (packet) {
        const { records, bad } = parsePacketSockets(packet.data.toString('latin1'));
        reportBad(ctx, packet.hostPath, bad);
        const ifnames = records.length > 0 ? await interfaceNames(ctx, ns) : new Map<number, string>();
        for (const s of records) {
          const own = ownersOf(s.inode);
          yield {
            netns,
            initNetns,
            protocol: 'packet',
            family: 'packet',
            socketType: s.type,
            state: s.running ? 'RUNNING' : 'STOPPED',
            stateCode: null,
            listening: s.running,
            localAddress: null,
            localPort: null,
            remoteAddress: null,
            remotePort: null,
            path: null,
            pathBase64: null,
            abstract: null,
            etherProtocol: s.etherProtocol,
            etherProtocolName: s.etherProtocolName,
            interfaceIndex: s.ifindex,
            interface: s.ifindex === 0 ? null : (ifnames.get(s.ifindex) ?? null),
            uid: s.uid,
            user: users.get(s.uid) ?? null,
            inode: s.inode,
            txQueue: null,
            rxQueue: null,
            pids: own.pids,
            owners: own.owners,
            source: packet.hostPath,
            line: s.line,
          } satisfies SocketRow;
        }
      }
    }
  },
});

export interface NamespaceTarget {
  /** null: the saved /proc has net/ but no per-process namespace links. */
  netns: number | null;
  /** The host's own namespace (pid 1's). */
  init: boolean;
  /** pids to read /proc/PID/net/* through, in order of preference; empty means /proc/net itself. */
  pids: number[];
}

/** The host's namespace first, then the others by inode; a saved /proc without namespace links falls back to /proc/net. */
export function namespaceOrder(scan: ProcessScan): NamespaceTarget[] {
  const out: NamespaceTarget[] = [];
  const ids = [...scan.namespaces.keys()].sort((a, b) => (a === scan.initNetns ? -1 : b === scan.initNetns ? 1 : a - b));
  for (const id of ids) out.push({ netns: id, init: id === scan.initNetns, pids: scan.namespaces.get(id)! });
  if (out.length === 0) out.push({ netns: null, init: false, pids: [] });
  return out;
}

/**
 * Reads /proc/PID/net/NAME through the first pid of the namespace that is still
 * there. A file missing from a live process means the kernel lacks that table
 * (no IPv6, no UDP-Lite): that is not an error. A copy is kept as evidence.
 */
export async function readNetFile(ctx: CollectorContext, ns: NamespaceTarget, name: string, keep = true): Promise<ReadResult | null> {
  // A saved /proc may hold net/ for some processes only, and /proc/net for the host's namespace.
  const candidates: (number | null)[] = ns.pids.length === 0 ? [null] : ns.pids.slice(0, 20);
  if (!ctx.host.live && ns.pids.length > 0 && ns.init) candidates.push(null);
  for (const pid of candidates) {
    if (ctx.signal.aborted) return null;
    const rel = pid === null ? `net/${name}` : `${pid}/net/${name}`;
    try {
      const read = await readProcTable(ctx.host, rel, PROC_NET_MAX);
      // the pid may have exited and been reused by a process of another namespace meanwhile
      if (pid !== null && ns.netns !== null && ctx.host.live && !(await stillIn(ctx.host.procPath(String(pid))!, ns.netns))) continue;
      if (read.truncated) ctx.error(read.hostPath, 'ETRUNC', `larger than ${PROC_NET_MAX} bytes; the rest was not read`);
      if (keep) await ctx.keepCopy(read);
      return read;
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      if (err.code === 'NOPROC') return null;
      if (err.code === 'ENOENT' || err.code === 'ESRCH') {
        // Live: a table missing from a process that still exists means the kernel lacks it
        // (no IPv6, no UDP-Lite); a process that exited meanwhile sends us to the next one.
        if (ctx.host.live && pid !== null && (await pidExists(ctx.host.procPath(String(pid))!))) return null;
        continue;
      }
      ctx.error(err.hostPath, err.code, err.message);
      if (err.code === 'EACCES' || err.code === 'EPERM') continue;
      return null;
    }
  }
  return null;
}

/**
 * Reads a /proc/net table. The kernel hands these out about a page per read()
 * call, so a 20,000-socket table takes hundreds of reads: they go through one
 * reused buffer and only the bytes read are kept. (Host.readProc allocates a
 * fresh megabyte per read and keeps each one alive until the end, which costs
 * gigabytes of garbage on a busy host.) Same refusals as Host: regular files only.
 */
export async function readProcTable(host: Host, rel: string, maxBytes: number): Promise<ReadResult> {
  const shown = `/proc/${rel}`;
  const real = host.procPath(rel);
  if (real === null) throw new HostReadError(shown, 'NOPROC', 'no /proc for this root (give --proc DIR)');
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(real, C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY);
  } catch (err) {
    throw hostError(shown, err);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new HostReadError(shown, 'ENOTREG', 'not a regular file, not read');
    const scratch = Buffer.allocUnsafe(256 * 1024);
    const chunks: Buffer[] = [];
    let total = 0;
    let truncated = false;
    for (;;) {
      const want = Math.min(scratch.length, maxBytes + 1 - total);
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(scratch, 0, want, null));
      } catch (err) {
        throw hostError(shown, err);
      }
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(scratch.subarray(0, bytesRead)));
      total += bytesRead;
      if (total > maxBytes) {
        truncated = true;
        break;
      }
    }
    let data = Buffer.concat(chunks, total);
    if (truncated) data = data.subarray(0, maxBytes);
    return { hostPath: shown, data, facts: factsOf(st), truncated, changedWhileRead: false };
  } finally {
    await fh.close();
  }
}

function hostError(shown: string, err: unknown): HostReadError {
  if (err instanceof HostReadError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const why: Record<string, string> = { ENOENT: 'does not exist', EACCES: 'permission denied', EPERM: 'permission denied', ESRCH: 'process has exited' };
  return new HostReadError(shown, code, why[code] ?? `read failed (${code})`);
}

function factsOf(st: Stats): ReadResult['facts'] {
  return { size: st.size, mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime, ctime: st.ctime, atime: st.atime, inode: st.ino };
}

async function stillIn(dir: string, netns: number): Promise<boolean> {
  try {
    return netnsInode(await fsp.readlink(`${dir}/ns/net`)) === netns;
  } catch {
    return false;
  }
}

async function pidExists(dir: string): Promise<boolean> {
  try {
    await fsp.stat(dir);
    return true;
  } catch {
    return false;
  }
}

/** One error per kind of failure, not one per process. */
export function reportScan(ctx: CollectorContext, scan: ProcessScan, descriptors = false): void {
  if (scan.denied.length > 0) {
    const first = scan.denied.slice(0, 10).join(', ');
    const lost = descriptors ? 'sockets they hold appear without owners, and namespaces only they are in are missed' : 'namespaces only they are in are missed';
    ctx.error(
      descriptors ? '/proc/PID/fd' : '/proc/PID/ns/net',
      'EACCES',
      `permission denied for ${scan.denied.length} of ${scan.processes} processes (not root, or shielded by a security module): ${lost} (pids ${first}${scan.denied.length > 10 ? ', …' : ''})`,
    );
  }
  const byCode = new Map<string, string[]>();
  for (const f of scan.failures) {
    const list = byCode.get(f.code);
    if (list) list.push(f.path);
    else byCode.set(f.code, [f.path]);
  }
  for (const [code, paths] of byCode) ctx.error(paths[0]!, code, `${paths.length} process entries could not be read (${code})${paths.length > 1 ? `; first ${paths[0]}` : ''}`);
}

export function reportBad(ctx: CollectorContext, path: string, bad: BadLine[]): void {
  for (const b of bad.slice(0, 20)) ctx.error(path, 'EPARSE', `line ${b.line} does not parse: ${JSON.stringify(latin1Text(b.text))}`);
  if (bad.length > 20) ctx.error(path, 'EPARSE', `${bad.length - 20} more lines do not parse`);
}

async function readUsers(ctx: CollectorContext): Promise<Map<number, string>> {
  const read = await ctx.read('/etc/passwd', { keep: false, maxBytes: 16 * 1024 * 1024 });
  return read ? userNames(parsePasswd(read.data.toString('utf8')).entries) : new Map();
}

/** /proc/PID/comm of every process that holds a socket. */
async function readComms(procRoot: string, scan: ProcessScan, signal: AbortSignal): Promise<Map<number, string>> {
  const pids = new Set<number>();
  for (const list of scan.owners.values()) for (const o of list) pids.add(o.pid);
  const out = new Map<number, string>();
  await pool(
    [...pids],
    8,
    async (pid) => {
      try {
        const raw = await fsp.readFile(`${procRoot}/${pid}/comm`);
        const end = raw.length > 0 && raw[raw.length - 1] === 0x0a ? raw.length - 1 : raw.length;
        out.set(pid, encodeHostPath(raw.subarray(0, Math.min(end, 64))).text);
      } catch {
        // exited
      }
    },
    signal,
  );
  return out;
}

/** Interface index → name in a namespace, from its igmp and dev_mcast tables (sysfs shows only one namespace). */
export async function interfaceNames(ctx: CollectorContext, ns: NamespaceTarget): Promise<Map<number, string>> {
  const igmp = await readNetFile(ctx, ns, 'igmp', false);
  const mcast = await readNetFile(ctx, ns, 'dev_mcast', false);
  return parseIfIndexes(igmp?.data.toString('latin1') ?? null, mcast?.data.toString('latin1') ?? null);
}
