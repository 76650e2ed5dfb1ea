import { z } from 'zod';
import { HostReadError } from '../host/host.js';
import { parseInetSockets, type InetTable } from '../host/proc-net.js';
import { TAINT_FLAGS } from '../host/proc-modules.js';
import { expandSshdConfig } from '../host/sshd-config.js';
import { effectiveSshdSettings } from '../host/sshd-settings.js';
import type { CollectorContext } from './collector.js';
import { defineCollector } from './collector.js';

/** Ports whose services are commonly attacked when reachable from the network (a fact about the port, not the process). */
export const PORT_SERVICES: Record<number, string> = {
  21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 111: 'rpcbind', 139: 'netbios-ssn', 445: 'smb', 873: 'rsync',
  2049: 'nfs', 2375: 'docker-api', 2376: 'docker-api-tls', 2379: 'etcd-client', 2380: 'etcd-peer', 3306: 'mysql',
  3389: 'rdp', 4444: 'metasploit-default', 5432: 'postgresql', 5900: 'vnc', 5984: 'couchdb', 6379: 'redis',
  6443: 'kubernetes-api', 8080: 'http-alt (jupyter, tomcat, jenkins)', 8888: 'jupyter', 9200: 'elasticsearch',
  10250: 'kubelet', 10255: 'kubelet-readonly', 11211: 'memcached', 27017: 'mongodb',
};

/** Kernel settings that decide how hard it is to hide in or escape to the kernel. */
const SYSCTLS = [
  'kernel/modules_disabled', 'kernel/kexec_load_disabled', 'kernel/kptr_restrict', 'kernel/dmesg_restrict',
  'kernel/yama/ptrace_scope', 'kernel/unprivileged_bpf_disabled', 'kernel/perf_event_paranoid', 'kernel/randomize_va_space',
  'kernel/unprivileged_userns_clone', 'user/max_user_namespaces', 'kernel/sysrq', 'kernel/core_pattern', 'kernel/modprobe',
  'fs/suid_dumpable', 'fs/protected_symlinks', 'fs/protected_hardlinks', 'net/ipv4/ip_forward',
];

const Row = z.object({
  area: z.enum(['kernel', 'lsm', 'audit', 'listen', 'sshd']).describe('kernel: taint, lockdown and hardening sysctls; lsm: SELinux and AppArmor; audit: audit rules; listen: TCP services reachable from the network; sshd: effective sshd settings'),
  setting: z.string().describe('what the row is about: kernel.tainted, kernel.core_pattern, lockdown, selinux.enforce, apparmor.profiles, audit.rule, listen, or an sshd_config keyword'),
  value: z.string().nullable().describe('the value as found (for listen rows address:port); null when not present'),
  detail: z.string().nullable().describe('decoding of the value: taint letters and meanings, the lockdown choices, profile counts…'),
  isDefault: z.boolean().nullable().describe('sshd rows: no line sets it, the value is OpenSSH\'s compiled-in default'),
  match: z.string().nullable().describe('sshd rows: the Match condition the value applies under; null for the global value'),
  source: z.string().nullable().describe('file (or program) the value came from'),
  line: z.number().int().nullable().describe('line number in that file'),
  address: z.string().nullable().describe('listen rows: local address (0.0.0.0 and :: mean every address)'),
  port: z.number().int().nullable().describe('listen rows: TCP port'),
  service: z.string().nullable().describe('listen rows: what usually listens on that port (by number only; the processes collector says who really does)'),
  uid: z.number().int().nullable().describe('listen rows: uid owning the socket'),
  inode: z.number().int().nullable().describe('listen rows: socket inode (join with processes\' open files)'),
});

type Row = z.infer<typeof Row>;

const blank = { value: null, detail: null, isDefault: null, match: null, source: null, line: null, address: null, port: null, service: null, uid: null, inode: null } satisfies Partial<Row>;

export const exposureCollector = defineCollector({
  name: 'exposure',
  title: 'Kernel, security modules, audit, exposed services and sshd settings',
  description:
    'How open the host is, as facts: the kernel taint (O out-of-tree or E unsigned module = a possible rootkit module; ' +
    'also reported by kernel-modules), lockdown mode, hardening sysctls (core_pattern or modprobe pointing at an odd ' +
    'program is persistence), SELinux and AppArmor state (disabled or permissive after an intrusion is telling), audit ' +
    'rules as configured and as loaded (auditctl -l: rules deleted at run time show as a difference), every TCP socket ' +
    'listening on a non-loopback address with the usual service for its port (Docker API 2375, Redis 6379, etcd, ' +
    'kubelet, databases, Jupyter: unauthenticated ones are how many hosts are taken), and the effective sshd settings ' +
    '(/etc/ssh/sshd_config and its Includes, first value wins, OpenSSH defaults filled in and marked, Match blocks ' +
    'separate). Raw copies of configuration files are kept.',
  preconditions:
    'Live host for the kernel, security-module, socket and loaded-audit facts (--proc gives taint, sysctls and sockets of ' +
    'a saved /proc); sshd and audit configuration also on --root. auditctl (auditd) is run on a live host only and recorded.',
  timeoutMs: 20_000,
  row: Row,
  async *collect(ctx) {
    yield* kernel(ctx);
    yield* lsm(ctx);
    yield* audit(ctx);
    yield* listening(ctx);
    yield* sshd(ctx);
  },
});

const text = (b: Buffer | undefined | null) => (b ? b.toString('utf8').replace(/\n$/, '') : null);

async function* kernel(ctx: CollectorContext): AsyncGenerator<Row> {
  const t = await ctx.readProc('sys/kernel/tainted');
  if (t) {
    const v = t.data.toString('utf8').trim();
    let detail: string | null = 'not a number';
    if (/^\d+$/.test(v)) {
      const n = BigInt(v);
      const set: string[] = [];
      for (let bit = 0; bit < 64; bit++) if ((n >> BigInt(bit)) & 1n) set.push(TAINT_FLAGS[bit] ? `${TAINT_FLAGS[bit]![0]}: ${TAINT_FLAGS[bit]![1]}` : `bit ${bit}`);
      detail = set.length === 0 ? 'not tainted' : set.join('; ');
    }
    yield { ...blank, area: 'kernel', setting: 'kernel.tainted', value: v, detail, source: '/proc/sys/kernel/tainted' };
  }
  const lockdown = await ctx.read('/sys/kernel/security/lockdown', { keep: false, maxBytes: 4096 });
  if (lockdown) {
    const all = text(lockdown.data)!;
    yield { ...blank, area: 'kernel', setting: 'lockdown', value: /\[([^\]]+)\]/.exec(all)?.[1] ?? all, detail: all, source: lockdown.hostPath };
  } else if (ctx.host.live) {
    yield { ...blank, area: 'kernel', setting: 'lockdown', detail: 'no /sys/kernel/security/lockdown (securityfs not mounted or lockdown LSM not built)', source: '/sys/kernel/security/lockdown' };
  }
  for (const rel of SYSCTLS) {
    const r = await ctx.readProc(`sys/${rel}`);
    if (!r) continue;
    yield { ...blank, area: 'kernel', setting: rel.replace(/\//g, '.'), value: text(r.data), source: `/proc/sys/${rel}` };
  }
}

async function* lsm(ctx: CollectorContext): AsyncGenerator<Row> {
  const enforce = await ctx.read('/sys/fs/selinux/enforce', { keep: false, maxBytes: 64 });
  if (enforce) {
    const v = text(enforce.data)!.trim();
    yield { ...blank, area: 'lsm', setting: 'selinux.enforce', value: v, detail: v === '1' ? 'enforcing' : v === '0' ? 'permissive' : null, source: enforce.hostPath };
  } else if (ctx.host.live) {
    yield { ...blank, area: 'lsm', setting: 'selinux.enforce', detail: 'no /sys/fs/selinux: SELinux not enabled', source: '/sys/fs/selinux/enforce' };
  }
  const config = await ctx.read('/etc/selinux/config', { maxBytes: 1024 * 1024 });
  if (config) {
    const lines = config.data.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^\s*(SELINUX|SELINUXTYPE)\s*=\s*(.*?)\s*$/.exec(lines[i]!.replace(/\r$/, ''));
      if (m) yield { ...blank, area: 'lsm', setting: `selinux.config.${m[1]}`, value: m[2]!, source: config.hostPath, line: i + 1 };
    }
  }
  const aa = await ctx.read('/sys/module/apparmor/parameters/enabled', { keep: false, maxBytes: 64 });
  if (aa) yield { ...blank, area: 'lsm', setting: 'apparmor.enabled', value: text(aa.data)!.trim(), source: aa.hostPath };
  else if (ctx.host.live) yield { ...blank, area: 'lsm', setting: 'apparmor.enabled', detail: 'AppArmor module not present', source: '/sys/module/apparmor/parameters/enabled' };
  const profiles = await ctx.read('/sys/kernel/security/apparmor/profiles', { keep: true, maxBytes: 16 * 1024 * 1024 });
  if (profiles) {
    const modes = new Map<string, number>();
    let total = 0;
    for (const l of profiles.data.toString('utf8').split('\n')) {
      const m = /\(([a-z]+)\)\s*$/.exec(l);
      if (!m) continue;
      total++;
      modes.set(m[1]!, (modes.get(m[1]!) ?? 0) + 1);
    }
    yield { ...blank, area: 'lsm', setting: 'apparmor.profiles', value: String(total), detail: [...modes].map(([m, n]) => `${m} ${n}`).join(', ') || null, source: profiles.hostPath };
  }
}

async function* audit(ctx: CollectorContext): AsyncGenerator<Row> {
  const files = ['/etc/audit/audit.rules'];
  try {
    for (const n of (await ctx.host.readdir('/etc/audit/rules.d')).sort()) files.push(`/etc/audit/rules.d/${n}`);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT') ctx.error('/etc/audit/rules.d', err.code, err.message);
  }
  for (const f of files) {
    const r = await ctx.read(f, { maxBytes: 16 * 1024 * 1024 });
    if (!r) continue;
    const lines = r.data.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!.replace(/\r$/, '');
      if (l.trim() === '' || l.trim().startsWith('#')) continue;
      yield { ...blank, area: 'audit', setting: 'audit.rule', value: l, source: f, line: i + 1 };
    }
  }
  if (!ctx.host.live) return;
  const loaded = await ctx.runTool('auditctl', ['-l'], { purpose: 'audit rules loaded in the kernel now (may differ from the files)' });
  if (!loaded) return;
  const out = loaded.stdout.toString('utf8').split('\n');
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.trim() === '') continue;
    yield { ...blank, area: 'audit', setting: 'audit.loaded-rule', value: out[i]!, source: `${loaded.path} -l`, line: i + 1 };
  }
  const status = await ctx.runTool('auditctl', ['-s'], { purpose: 'audit subsystem state (enabled, pid of auditd, lost events)' });
  if (!status) return;
  for (const l of status.stdout.toString('utf8').split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(l.trim());
    if (m) yield { ...blank, area: 'audit', setting: `audit.${m[1]}`, value: m[2]!, source: `${status.path} -s` };
  }
}

function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.');
}

async function* listening(ctx: CollectorContext): AsyncGenerator<Row> {
  for (const table of ['tcp', 'tcp6'] as InetTable[]) {
    const r = (await ctx.readProc(`1/net/${table}`)) ?? (await ctx.readProc(`net/${table}`));
    if (!r) continue;
    const { records, bad } = parseInetSockets(r.data.toString('latin1'), table);
    if (bad.length > 0) ctx.error(r.hostPath, 'EPARSE', `${bad.length} line(s) do not parse, first at line ${bad[0]!.line}`);
    for (const s of records) {
      if (!s.listening || isLoopback(s.localAddress)) continue;
      const shownAddr = s.family === 'inet6' ? `[${s.localAddress}]` : s.localAddress;
      yield {
        ...blank,
        area: 'listen',
        setting: 'listen',
        value: `${shownAddr}:${s.localPort}`,
        detail: s.localAddress === '0.0.0.0' || s.localAddress === '::' ? 'every address' : null,
        source: r.hostPath,
        line: s.line,
        address: s.localAddress,
        port: s.localPort,
        service: PORT_SERVICES[s.localPort] ?? null,
        uid: s.uid,
        inode: s.inode,
      };
    }
  }
}

async function* sshd(ctx: CollectorContext): AsyncGenerator<Row> {
  const main = '/etc/ssh/sshd_config';
  const { directives, bad, files } = await expandSshdConfig(main, {
    read: async (p) => (await ctx.read(p, { maxBytes: 4 * 1024 * 1024 }))?.data.toString('utf8') ?? null,
    glob: (pattern) => globLast(ctx, pattern),
  });
  if (files.length === 0) return; // no sshd configuration: sshd is not installed
  for (const b of bad) ctx.error(b.file, 'EPARSE', `line ${b.line}: ${b.reason}`);
  for (const s of effectiveSshdSettings(directives)) {
    yield { ...blank, area: 'sshd', setting: s.keyword, value: s.value, isDefault: s.isDefault, match: s.match, source: s.file, line: s.line };
  }
}

/** Glob with wildcards in the last component only (what sshd_config Includes use in practice). */
async function globLast(ctx: CollectorContext, pattern: string): Promise<string[]> {
  const slash = pattern.lastIndexOf('/');
  const dir = pattern.slice(0, slash) || '/';
  const last = pattern.slice(slash + 1);
  if (!/[*?[]/.test(last)) {
    try {
      await ctx.host.lstat(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  let re: RegExp;
  try {
    re = new RegExp(`^${last.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\[!/g, '[^')}$`);
  } catch {
    ctx.error(pattern, 'EPARSE', 'Include pattern is not a glob goldhour understands; not followed');
    return [];
  }
  try {
    return (await ctx.host.readdir(dir))
      .filter((n) => !n.startsWith('.') && re.test(n))
      .sort()
      .map((n) => `${dir === '/' ? '' : dir}/${n}`);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT') ctx.error(dir, err.code, err.message);
    return [];
  }
}
