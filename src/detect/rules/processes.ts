import type { Evidence } from '../finding.js';
import type { ProcessBrief } from '../process-index.js';
import { joinRule, rowRule, type Hit, type Rule } from '../rule.js';
import type { RowOf } from '../rows.js';
import { ELEVATORS, KERNEL_THREAD_NAME, MINER_ARGS, MINER_NAMES, POOL_PORT_ARG, SERVER_NAMES, SHELL_LIKE, deceptiveName } from '../signs/names.js';
import { baseName, hasHiddenComponent, inHome, inTempDir } from '../signs/paths.js';
import { ageMs, processEvidence, tsOf } from './evidence.js';

type P = RowOf<'processes'>;

const userland = (p: P) => p.kernelThread === false || (p.kernelThread === null && p.exe !== null);
/** runc re-executes itself from a sealed memfd (the CVE-2019-5736 fix): fileless by design. */
const RUNC_MEMFD = /^\/memfd:runc_cloned:/;
const oddPlace = (path: string) => inTempDir(path) || hasHiddenComponent(path);
/** The executable as the process itself sees it: inside a chroot (a build root under /tmp), relative to that root. */
const ownExe = (p: P) => (p.exe && p.root && p.root !== '/' && p.exe.startsWith(`${p.root}/`) ? p.exe.slice(p.root.length) : p.exe);

const hit = (p: P, extra: Evidence = {}): Hit => ({ evidence: processEvidence(p, extra), pid: p.pid, ts: tsOf(p.startTime) });

export const PROCESS_RULES: Rule[] = [
  rowRule({
    id: 'process.exe.deleted',
    title: 'process runs an executable that was deleted from disk',
    severity: 'medium',
    attack: ['T1070.004'],
    description:
      'The file this process was started from is gone (or was replaced), but the process runs on from memory. Malware deletes its binary after starting so that nothing is left to find; package upgrades also replace binaries under long-running daemons. Compare exeSha256 with the packaged file, and if they differ or the path is not packaged, preserve the running image (goldhour memory --pid, or triage --copy-deleted, which copies it through /proc/PID/exe) before killing the process.',
    falsepositives: ['daemons not restarted after a package upgrade (the path is a packaged binary; needrestart lists them)'],
    references: ['https://man7.org/linux/man-pages/man5/proc.5.html'],
    reads: ['processes'],
    match: (p: P) => {
      const exe = ownExe(p);
      return p.exeDeleted && !p.exeMemfd && exe !== null && !oddPlace(exe) ? hit(p) : null;
    },
  }),
  rowRule({
    id: 'process.exe.memfd',
    title: 'process runs from an anonymous memory file (fileless)',
    severity: 'high',
    attack: ['T1620'],
    description:
      'The executable is a memfd: code loaded straight into memory with memfd_create and executed without ever touching the disk, a technique of fileless loaders and of several Linux implants. Nothing on disk holds the program, so acquire the process memory now (goldhour memory --pid PID) and its executable through /proc/PID/exe, then look at its parent, its sockets and how it was started.',
    falsepositives: ['runc re-executing itself (memfd named runc_cloned, excluded)', 'a few sandboxes and JIT runtimes that exec from a memfd'],
    references: ['https://man7.org/linux/man-pages/man2/memfd_create.2.html'],
    reads: ['processes'],
    match: (p: P) => (p.exeMemfd && !(p.exe && RUNC_MEMFD.test(p.exe)) ? hit(p) : null),
  }),
  rowRule({
    id: 'process.exe.temp-dir',
    title: 'process runs from a temporary or hidden directory',
    severity: 'high',
    attack: ['T1105', 'T1564.001'],
    description:
      'The executable lives in /tmp, /var/tmp or /dev/shm, or under a directory whose name starts with a dot: world-writable or hidden places where dropped tools and miners are run from, and where nothing a package installs lives. Hash the executable (exeSha256) and look it up, copy it (triage --copy-deleted if it is gone), note its parent, user and sockets, then contain the process.',
    falsepositives: ['installers and self-extracting archives that unpack into /tmp and run briefly', 'developer tools under ~/.local or ~/.cargo', 'programs of a chroot under /tmp are judged by their path inside it'],
    references: ['https://attack.mitre.org/techniques/T1564/001/'],
    reads: ['processes'],
    match: (p: P) => {
      const exe = ownExe(p);
      return exe !== null && !p.exeMemfd && oddPlace(exe) ? hit(p) : null;
    },
  }),
  rowRule({
    id: 'process.kernel-thread-name',
    title: 'userspace process named like a kernel thread',
    severity: 'high',
    attack: ['T1036.004', 'T1036.011'],
    description:
      'The process calls itself [kworker/…], kswapd0, kthreadd or the like, but the kernel does not mark it as a kernel thread and it has an executable: a user program disguised so that ps output looks normal. Miners (Outlaw\'s fake kswapd0) and backdoors do this. Treat it as malicious: hash and copy the executable, record its sockets and parent, then contain it.',
    falsepositives: ['none known: kernel threads have no executable'],
    references: ['https://attack.mitre.org/techniques/T1036/004/'],
    reads: ['processes'],
    match: (p: P) => {
      if (!userland(p)) return null;
      const names = [p.comm, p.argv[0]].filter((n): n is string => !!n);
      return names.some((n) => KERNEL_THREAD_NAME.test(n) || /^\[.*\]$/.test(n)) ? hit(p) : null;
    },
  }),
  rowRule({
    id: 'process.exe.deceptive-name',
    title: 'process runs an executable with a deceptive name',
    severity: 'high',
    attack: ['T1036.005', 'T1036.006'],
    description:
      'The executable\'s file name is made to fool a human: only dots and spaces, a trailing space ("sshd "), invisible or control characters, or letters from another script that look Latin. In a process list it reads like a system program or like nothing at all. Copy the executable through /proc/PID/exe (exeBase64 holds the exact name), hash it and contain the process.',
    falsepositives: ['none known'],
    references: ['https://attack.mitre.org/techniques/T1036/006/'],
    reads: ['processes'],
    match: (p: P) => {
      const why = p.exe !== null && !p.exeMemfd ? deceptiveName(baseName(p.exe)) : null;
      return why ? hit(p, { why }) : null;
    },
  }),
  rowRule({
    id: 'process.comm-mismatch',
    title: 'process name differs from its executable',
    severity: 'medium',
    attack: ['T1036.011'],
    description:
      'The name the process gives itself (comm) matches neither its executable\'s file name nor its argv[0]: it renamed itself after starting, which some daemons do for status display and malware does to pass as something else. Look at what the name claims to be and whether the executable is that program; a system daemon name on an unpackaged binary is masquerading.',
    falsepositives: ['daemons that retitle themselves (postgres, sshd session titles, nginx workers use their own name)', 'interpreted programs (excluded: python, perl, java… run under their script\'s name)'],
    references: ['https://attack.mitre.org/techniques/T1036/011/'],
    reads: ['processes'],
    match: (p: P) => {
      if (!userland(p) || p.comm === null || p.exe === null || p.exeMemfd) return null;
      const exe = baseName(p.exe);
      if (INTERPRETER.test(exe)) return null;
      const argv0 = baseName(p.argv[0] ?? '');
      const agrees = (n: string) => n.length > 0 && (n.startsWith(p.comm!) || p.comm!.startsWith(n.slice(0, 15)));
      if (agrees(exe) || agrees(argv0) || p.comm.startsWith('(')) return null;
      return hit(p, { exeName: exe });
    },
  }),
  rowRule({
    id: 'process.miner',
    title: 'cryptocurrency miner running',
    severity: 'critical',
    attack: ['T1496.001'],
    description:
      'The process name or arguments are a miner\'s: xmrig, kdevtmpfsi (Kinsing), stratum+tcp:// pool URLs, --donate-level, a known pool domain. Miners are the most common payload of mass exploitation (Kinsing, TeamTNT, 8220) and are rarely alone: look for the persistence that restarts it (cron, systemd, ld.so.preload), the SSH keys and accounts added with it, and the way in (a web application, Redis, Docker API, weak SSH passwords). Copy the binary and its config before killing it.',
    falsepositives: ['authorised mining (rare on servers)'],
    references: ['https://attack.mitre.org/techniques/T1496/001/', 'https://www.aquasec.com/blog/threat-alert-kinsing-malware-container-vulnerability/'],
    reads: ['processes'],
    match: (p: P) => {
      const text = [p.comm ?? '', p.exe ?? '', ...p.argv].join(' ');
      return MINER_NAMES.test(text) || MINER_ARGS.test(text) ? hit(p) : null;
    },
  }),
  rowRule({
    id: 'process.miner-pool-port',
    title: 'process arguments name a mining-pool port',
    severity: 'medium',
    attack: ['T1496.001', 'T1571'],
    description:
      'An argument has the form host:port with a port mining pools listen on (3333, 4444, 5555, 7777, 14444, 45700), and nothing else gives the process away as a miner. Check what the host is (a pool domain, an IP of a hosting provider) and what the process does with its CPU; a renamed miner often keeps its pool argument.',
    falsepositives: ['services that happen to use those ports (e.g. adb on 5555, development servers on 3333)'],
    references: ['https://attack.mitre.org/techniques/T1496/001/'],
    reads: ['processes'],
    match: (p: P) => {
      const text = [p.comm ?? '', p.exe ?? '', ...p.argv].join(' ');
      return !MINER_NAMES.test(text) && !MINER_ARGS.test(text) && p.argv.slice(1).some((a) => POOL_PORT_ARG.test(a)) ? hit(p) : null;
    },
  }),
  rowRule({
    id: 'process.high-cpu',
    title: 'process has used more than 80% of a CPU for its whole life',
    severity: 'medium',
    attack: ['T1496.001'],
    description:
      'The process used more than 80% of a core during the sample and has averaged more than that since it started at least ten minutes ago: the sustained load of a miner (which may be renamed or hidden behind an innocent name). Check that the program is what the host is for; if not, look at its executable, its network connections (pool ports) and how it was started.',
    falsepositives: ['batch jobs, builds, databases and compression under heavy load'],
    references: ['https://attack.mitre.org/techniques/T1496/001/'],
    reads: ['processes'],
    match: (p: P, ctx) => {
      if (p.cpuPercent === null || p.cpuPercent <= 80 || p.cpuSeconds === null || !userland(p)) return null;
      const age = ageMs(p.startTime, ctx.seen('processes'));
      if (age === null || age < 600_000) return null;
      const lifetime = (p.cpuSeconds * 1000 * 100) / age;
      return lifetime > 80 ? hit(p, { cpuPercent: Math.round(p.cpuPercent), lifetimeCpuPercent: Math.round(lifetime) }) : null;
    },
  }),
  rowRule({
    id: 'process.ld-preload-odd',
    title: 'process preloads a library from an odd place',
    severity: 'high',
    attack: ['T1574.006'],
    description:
      'The process was started with LD_PRELOAD naming a library in a temporary, hidden or home directory, or by a bare name: code injected into the program before its own, the way userland rootkits and credential stealers hook functions. Copy the library, hash it, see which other processes carry the same variable (a login profile or /etc/environment may set it) and whether /etc/ld.so.preload is set too.',
    falsepositives: ['developers testing a library from their home directory'],
    references: ['https://attack.mitre.org/techniques/T1574/006/', 'https://man7.org/linux/man-pages/man8/ld.so.8.html'],
    reads: ['processes'],
    match: (p: P) => {
      const libs = (p.ldPreload ?? []).flatMap((v) => v.split(/[:\s]+/)).filter(Boolean);
      const odd = libs.filter((l) => !l.startsWith('/') || inTempDir(l) || hasHiddenComponent(l) || inHome(l));
      return odd.length > 0 ? hit(p, { library: odd.join(' ') }) : null;
    },
  }),
  joinRule<{ shells: Pending[] }>({
    id: 'process.server-spawned-shell',
    title: 'web server or database started a shell',
    severity: 'high',
    attack: ['T1505.003', 'T1059.004'],
    description:
      'A shell or interpreter runs below a web server, PHP worker or database (nginx, apache2, php-fpm, mysqld, postgres, redis-server…) with only shells in between: what a web shell, a command-injection bug or a database feature abused for code execution (COPY … FROM PROGRAM, Redis module loading) looks like. Read the full command line, find the request or query that started it in the web or database logs around its start time, and look for the web shell file.',
    falsepositives: ['applications that shell out by design (CGI scripts, PostgreSQL archive_command run through sh -c)'],
    references: ['https://attack.mitre.org/techniques/T1505/003/'],
    reads: ['processes'],
    start: () => ({ shells: [] }),
    row: (s, t) => {
      if (t.source === 'processes' && isShell(t.row)) s.shells.push(pending(t.row));
    },
    finish: (s, ctx) =>
      s.shells.flatMap((p) => {
        const server = firstNonShellAncestor(p.ancestry, ctx.processes.get.bind(ctx.processes));
        return server && server.comm && SERVER_NAMES.test(server.comm) ? [p.with({ parent: server.comm, parentPid: server.pid })] : [];
      }),
  }),
  joinRule<{ candidates: Pending[] }>({
    id: 'process.root-in-user-session',
    title: 'root process in a user\'s session without sudo or su',
    severity: 'high',
    attack: ['T1068', 'T1548.001'],
    description:
      'The process runs with root privileges, and its ancestors include an ordinary user\'s process, but no program that legitimately grants root (sudo, su, pkexec, a set-uid system binary) stands between them: the mark of a privilege escalation exploit or a planted set-uid binary. Read the command line, the executable and its mode (a set-uid copy of a shell in /tmp is common), and the user\'s shell history.',
    falsepositives: ['set-uid programs not in the list of known elevators (add them to an allowlist)'],
    references: ['https://attack.mitre.org/techniques/T1068/'],
    reads: ['processes'],
    start: () => ({ candidates: [] }),
    row: (s, t) => {
      if (t.source === 'processes' && t.row.euid === 0 && userland(t.row) && t.row.inContainer !== true) s.candidates.push(pending(t.row));
    },
    finish: (s, ctx) =>
      s.candidates.flatMap((p) => {
        const chain: (string | null)[] = [p.exe];
        for (const pid of p.ancestry) {
          const a = ctx.processes.get(pid);
          if (!a) return [];
          if (a.euid !== null && a.euid >= 1000 && a.euid !== 65534) {
            const elevated = chain.some((exe) => exe && ELEVATORS.has(baseName(exe)));
            return elevated ? [] : [p.with({ sessionUid: a.euid, sessionPid: a.pid, sessionComm: a.comm })];
          }
          chain.push(a.exe);
        }
        return [];
      }),
  }),
];

const INTERPRETER = /^(?:python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node(?:js)?|java|php[0-9.]*|php-fpm\S*|bash|dash|sh|zsh|busybox|lua[0-9.]*|tclsh[0-9.]*|wish[0-9.]*|Xwayland|mono|dotnet|qemu-\S+|systemd)$/;

/** What a process-tree rule keeps of a row until every process is known: its place in the tree and its finding, ready made. */
interface Pending {
  exe: string | null;
  ancestry: number[];
  with(extra: Evidence): Hit;
}

function pending(p: P): Pending {
  const base = hit(p);
  return { exe: p.exe, ancestry: p.ancestry, with: (extra) => ({ ...base, evidence: { ...base.evidence, ...extra } }) };
}

function isShell(p: P): boolean {
  const name = p.exe ? baseName(p.exe) : (p.comm ?? '');
  return userland(p) && SHELL_LIKE.test(name);
}

/** The nearest ancestor that is not itself a shell (sh -c chains in between are how servers run commands). */
function firstNonShellAncestor(ancestry: readonly number[], get: (pid: number) => ProcessBrief | undefined): ProcessBrief | null {
  for (const pid of ancestry) {
    const a = get(pid);
    if (!a) return null;
    const name = a.exe ? baseName(a.exe) : (a.comm ?? '');
    if (!SHELL_LIKE.test(name)) return a;
  }
  return null;
}
