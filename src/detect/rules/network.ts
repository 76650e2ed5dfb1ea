import type { Evidence } from '../finding.js';
import type { ProcessBrief } from '../process-index.js';
import { joinRule, rowRule, type DetectContext, type Hit, type Rule } from '../rule.js';
import type { RowOf } from '../rows.js';
import { POOL_PORTS, RAW_SOCKET_PROGRAMS, SHELL_LIKE } from '../signs/names.js';
import { baseName, hasHiddenComponent, inSystemDir, inTempDir } from '../signs/paths.js';
import { briefEvidence } from './evidence.js';

type S = RowOf<'sockets'>;

const INET = new Set(['tcp', 'udp', 'udplite']);
const LOOPBACK = /^(?:127\.|::1$|::ffff:127\.)/;
const connected = (s: S) => (s.protocol === 'tcp' ? s.state === 'ESTABLISHED' : INET.has(s.protocol) && (s.remotePort ?? 0) !== 0);
const peer = (s: S) => (s.remoteAddress?.includes(':') ? `[${s.remoteAddress}]:${s.remotePort}` : `${s.remoteAddress}:${s.remotePort}`);
const local = (s: S) => (s.localAddress?.includes(':') ? `[${s.localAddress}]:${s.localPort}` : `${s.localAddress}:${s.localPort}`);

function socketEvidence(s: S, owner: ProcessBrief | undefined, extra: Evidence = {}): Evidence {
  return {
    ...(owner ? briefEvidence(owner) : { path: null, comm: s.owners[0]?.comm ?? null }),
    protocol: s.protocol,
    state: s.state,
    local: local(s),
    ...(s.family !== 'unix' && s.family !== 'packet' && (s.remotePort ?? 0) !== 0 ? { remote: peer(s) } : {}),
    inode: s.inode,
    ...extra,
  };
}

/** One hit per process holding the socket (a finding names one pid), or one without a pid when no holder is known. */
function perOwner(s: S, ctx: DetectContext, extra: (owner: ProcessBrief | undefined) => Evidence = () => ({})): Hit[] {
  if (s.pids.length === 0) return [{ evidence: socketEvidence(s, undefined, extra(undefined)) }];
  return s.pids.map((pid) => {
    const owner = ctx.processes.get(pid);
    return { evidence: socketEvidence(s, owner, extra(owner)), pid };
  });
}

const ownerName = (o: ProcessBrief | undefined, comm: string | null) => (o?.exe ? baseName(o.exe) : (o?.comm ?? comm ?? ''));

interface Counts {
  established: number;
  byPid: Map<number, number>;
  tcp: number;
  udp: number;
}

export const NETWORK_RULES: Rule[] = [
  rowRule({
    id: 'network.reverse-shell',
    title: 'shell whose input or output is a network connection',
    severity: 'critical',
    attack: ['T1059.004'],
    description:
      'A shell or script interpreter has a TCP or UDP socket as its standard input, output or error (fd 0, 1 or 2): someone on the other end types its commands. This is a reverse or bind shell (bash -i >& /dev/tcp/…, nc -e, a web shell upgrading itself). Record the remote address, block it at the perimeter, acquire the process memory and its parent\'s, and look for how it was started (a web server, cron, a service).',
    falsepositives: ['inetd-style services that hand a connection to a shell script (rare)'],
    references: ['https://attack.mitre.org/techniques/T1059/004/', 'https://gtfobins.github.io/'],
    reads: ['sockets'],
    match: (s: S, ctx) => {
      if (!INET.has(s.protocol) || s.listening) return null;
      const held = s.owners.filter((o) => o.fd <= 2 && SHELL_LIKE.test(ownerName(ctx.processes.get(o.pid), o.comm)));
      const pids = [...new Set(held.map((o) => o.pid))];
      return pids.map((pid) => ({ evidence: socketEvidence(s, ctx.processes.get(pid), { fds: held.filter((o) => o.pid === pid).map((o) => o.fd) }), pid }));
    },
  }),
  rowRule({
    id: 'network.mining-pool-port',
    title: 'connection to a mining-pool port',
    severity: 'high',
    attack: ['T1496.001', 'T1571'],
    description:
      'A TCP connection is open (or opening) to a remote port mining pools use (3333, 4444, 5555, 7777, 14444, 45700). Together with high CPU use this is a miner, whatever its process is called. Identify the process and its executable, look the remote address up, block it, and find what starts the process again (cron, systemd, a watchdog script).',
    falsepositives: ['applications that use one of these ports for their own protocol'],
    references: ['https://attack.mitre.org/techniques/T1496/001/'],
    reads: ['sockets'],
    match: (s: S, ctx) =>
      s.protocol === 'tcp' && (s.state === 'ESTABLISHED' || s.state === 'SYN_SENT') && POOL_PORTS.has(s.remotePort ?? 0) && !LOOPBACK.test(s.remoteAddress ?? '')
        ? perOwner(s, ctx)
        : null,
  }),
  rowRule({
    id: 'network.listener-temp-process',
    title: 'listening socket owned by a program in a temporary or hidden directory',
    severity: 'high',
    attack: ['T1571', 'T1105'],
    description:
      'A program run from /tmp, /var/tmp, /dev/shm or a hidden directory accepts connections: a bind shell or backdoor waiting for its operator, or a proxy the intruder set up. Note the port and address, test from outside whether it is reachable, copy the executable, and block the port before killing the process.',
    falsepositives: ['development servers started from a checkout in /tmp'],
    references: ['https://attack.mitre.org/techniques/T1571/'],
    reads: ['sockets'],
    match: (s: S, ctx) => {
      if (!s.listening || !INET.has(s.protocol)) return null;
      const odd = s.pids.filter((pid) => {
        const exe = ctx.processes.get(pid)?.exe;
        return exe && (inTempDir(exe) || hasHiddenComponent(exe));
      });
      return odd.map((pid) => ({ evidence: socketEvidence(s, ctx.processes.get(pid)), pid }));
    },
  }),
  rowRule({
    id: 'network.raw-socket-unexpected',
    title: 'raw or packet socket held by an unexpected program',
    severity: 'high',
    attack: ['T1205.002', 'T1040'],
    description:
      'A program that is not a DHCP client, network manager, capture tool or routing daemon holds a raw IP or packet socket, or a known one runs from outside the system directories: it sees traffic before the firewall does. Passive backdoors (BPFDoor, Symbiote) and sniffers work this way, waking on a magic packet so that no port is ever open. Copy the executable, dump the process memory, and look for an attached BPF filter (bpf collector).',
    falsepositives: ['monitoring and routing software not in the known list (keepalived, lldpd, dhcp and capture tools are known)'],
    references: ['https://attack.mitre.org/techniques/T1205/002/', 'https://www.sandflysecurity.com/blog/bpfdoor-an-evasive-linux-backdoor-technical-analysis/'],
    reads: ['sockets'],
    match: (s: S, ctx) => {
      if (s.protocol !== 'raw' && s.protocol !== 'packet') return null;
      return s.owners
        .filter((o, i, all) => all.findIndex((x) => x.pid === o.pid) === i)
        .filter((o) => {
          const p = ctx.processes.get(o.pid);
          const name = ownerName(p, o.comm);
          const trusted = RAW_SOCKET_PROGRAMS.has(name) && (!p?.exe || (inSystemDir(p.exe) && !p.exeDeleted));
          return !trusted;
        })
        .map((o) => ({ evidence: socketEvidence(s, ctx.processes.get(o.pid)), pid: o.pid }));
    },
  }),
  joinRule<Counts>({
    id: 'network.established-flood',
    title: 'more than 1,000 established TCP connections',
    severity: 'medium',
    attack: ['T1498'],
    description:
      'The host holds more than 1,000 established TCP connections. On a host that is not a busy server this is a denial-of-service bot, a scanner or a proxy an intruder runs. The evidence names the processes holding the most; check that they are the host\'s own services, and compare with the interface traffic counters.',
    falsepositives: ['busy web servers, proxies, load balancers and databases'],
    references: ['https://attack.mitre.org/techniques/T1498/'],
    reads: ['sockets'],
    start: () => ({ established: 0, byPid: new Map(), tcp: 0, udp: 0 }),
    row: (c, t) => {
      if (t.source !== 'sockets' || t.row.protocol !== 'tcp' || t.row.state !== 'ESTABLISHED') return;
      c.established++;
      for (const pid of t.row.pids) c.byPid.set(pid, (c.byPid.get(pid) ?? 0) + 1);
    },
    finish: (c, ctx) => (c.established > 1000 ? [{ evidence: { path: null, count: c.established, top: topHolders(c.byPid, ctx) } }] : []),
  }),
  joinRule<Counts>({
    id: 'network.udp-share',
    title: 'UDP is more than 40% of the host\'s connections',
    severity: 'medium',
    attack: ['T1498'],
    description:
      'Of the sockets talking to a peer (TCP established, UDP connected), more than 40% are UDP, with at least 50 in all. UDP floods are what DDoS bots such as XorDDoS and Mirai variants send; ordinary servers talk mostly TCP. Identify the processes holding the UDP sockets and their destinations. goldhour counts sockets, not bytes: no collector records per-protocol traffic, so confirm with a packet capture (goldhour pcap).',
    falsepositives: ['DNS resolvers, VoIP, game, QUIC-heavy and monitoring servers'],
    references: ['https://attack.mitre.org/techniques/T1498/001/'],
    reads: ['sockets'],
    start: () => ({ established: 0, byPid: new Map(), tcp: 0, udp: 0 }),
    row: (c, t) => {
      if (t.source !== 'sockets' || !connected(t.row)) return;
      if (t.row.protocol === 'tcp') c.tcp++;
      else {
        c.udp++;
        for (const pid of t.row.pids) c.byPid.set(pid, (c.byPid.get(pid) ?? 0) + 1);
      }
    },
    finish: (c, ctx) => {
      const all = c.tcp + c.udp;
      return all >= 50 && c.udp / all > 0.4 ? [{ evidence: { path: null, udp: c.udp, tcp: c.tcp, top: topHolders(c.byPid, ctx) } }] : [];
    },
  }),
];

function topHolders(byPid: Map<number, number>, ctx: DetectContext): string[] {
  return [...byPid]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 5)
    .map(([pid, n]) => `${pid} ${ctx.processes.get(pid)?.comm ?? '?'} (${n})`);
}
