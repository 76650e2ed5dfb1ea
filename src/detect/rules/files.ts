import { joinRule, rowRule, type Rule } from '../rule.js';
import type { RowOf } from '../rows.js';
import { SYSTEM_PROGRAM_NAMES, deceptiveName } from '../signs/names.js';
import { baseName, belowPlace, inSystemTree } from '../signs/paths.js';
import { tsOf } from './evidence.js';

type Walked = RowOf<'temp-files'> | RowOf<'file-scan'>;

/** Where a walked file sits below its temporary place (or home), or null when it is in neither. */
const rel = (r: Walked) => belowPlace(r.path, 'place' in r ? r.place : undefined);
/** Hidden names near the top of a temporary place are drops; deep in a checkout (.git, .cache) they are a project's own. */
const VCS = new Set(['.git', '.svn', '.hg']);
const hiddenNearTop = (parts: readonly string[]) => parts.slice(0, 2).some((c) => c.startsWith('.') && !VCS.has(c));

/** Programs a rootkit replaces first, so that it does not show in their output. */
const ROOTKIT_TARGETS = new Set([
  'ps', 'ls', 'ss', 'netstat', 'top', 'lsof', 'find', 'du', 'w', 'who', 'last', 'lastlog', 'pstree', 'pgrep', 'pkill', 'kill',
  'ifconfig', 'ip', 'sshd', 'ssh', 'login', 'su', 'sudo', 'passwd', 'crontab', 'systemctl', 'dmesg', 'lsmod', 'insmod', 'modprobe',
  'rmmod', 'strace', 'stat', 'md5sum', 'sha256sum', 'dpkg', 'rpm', 'bash', 'dash', 'sh', 'tcpdump', 'iptables', 'nft', 'journalctl',
]);
const ROOTKIT_LIBRARIES = /^(?:libc[.-]|libprocps|libproc2|libkeyutils|libaudit|libpam\.|libselinux|libsystemd|libutil)/;

const setid = (perm: string) => /^[2-7]/.test(perm.padStart(4, '0'));
const executableContent = (r: Walked) => r.type === 'file' && (r.contentKind === 'elf' || r.contentKind === 'script');
const fileEvidence = (r: Walked, extra: Record<string, string | number | boolean | null> = {}) => ({
  evidence: { path: r.path, mode: r.mode, owner: r.owner ?? String(r.uid), ...(r.sha256 ? { sha256: r.sha256 } : {}), ...extra },
  ts: tsOf(r.mtime),
});

/** Names of login-record and auth logs whose emptying hides logins. */
const AUTH_LOG = /^\/var\/log\/(?:auth\.log|secure)$/;

export const FILE_RULES: Rule[] = [
  rowRule({
    id: 'files.setid-temp-or-home',
    title: 'set-uid or set-gid file in a temporary or home directory',
    severity: 'high',
    attack: ['T1548.001'],
    description:
      'A file with the set-uid or set-gid bit lives in /tmp, /var/tmp, /dev/shm or a home directory: run by anyone, it runs as its owner. Intruders leave a set-uid root copy of a shell there to get root back at will. Note the owner, hash and copy it, and remove the bit (chmod u-s) once preserved; look for who created it (ctime, shell histories). Files inside an unpacked root filesystem there (a chroot or image with its own bin, lib or usr) are left out.',
    falsepositives: ['set-uid programs of a chroot or image unpacked under /tmp or a home directory in a layout the rule does not recognise'],
    references: ['https://attack.mitre.org/techniques/T1548/001/'],
    reads: ['temp-files', 'file-scan'],
    match: (r: Walked) => {
      const parts = r.type === 'file' && setid(r.perm) ? rel(r) : null;
      return parts && !inSystemTree(parts) ? fileEvidence(r) : null;
    },
  }),
  rowRule({
    id: 'files.exec-hidden-in-temp',
    title: 'hidden executable in a temporary directory',
    severity: 'high',
    attack: ['T1564.001'],
    description:
      'An ELF binary or script in /tmp, /var/tmp, /dev/shm or another world-writable place has a name starting with a dot, or sits in a directory that does, within two levels of the top: hidden from a plain ls, the way dropped miners and toolkits are stored (/tmp/.X11-unix/.x, /dev/shm/.rsync/run). Hash it and look the hash up, copy it, and find the process or job that uses it.',
    falsepositives: ['runtime files of desktop sessions and some package managers', 'projects checked out directly in /tmp with executables in a hidden directory at their top'],
    references: ['https://attack.mitre.org/techniques/T1564/001/'],
    reads: ['temp-files'],
    match: (r: RowOf<'temp-files'>) => (executableContent(r) && (r.hidden || r.inHiddenDir) && hiddenNearTop(rel(r) ?? []) ? fileEvidence(r, { contentKind: r.contentKind }) : null),
  }),
  rowRule({
    id: 'files.exec-deceptive-name',
    title: 'executable with a deceptive name',
    severity: 'high',
    attack: ['T1036.005', 'T1036.006'],
    description:
      'An executable\'s name is made to fool a human reading a listing: only dots and spaces ("..."), a trailing space ("sshd "), invisible or control characters, or letters from another script that look Latin. No legitimate program is named so. Copy it (pathBase64 holds the exact bytes), hash it and find what runs it.',
    falsepositives: ['none known'],
    references: ['https://attack.mitre.org/techniques/T1036/006/', 'https://attack.mitre.org/techniques/T1036/005/'],
    reads: ['temp-files', 'file-scan'],
    match: (r: Walked) => {
      const why = executableContent(r) ? deceptiveName(baseName(r.path)) : null;
      return why ? fileEvidence(r, { why }) : null;
    },
  }),
  rowRule({
    id: 'files.exec-system-name-in-temp',
    title: 'executable named like a system program in a temporary directory',
    severity: 'high',
    attack: ['T1036.005'],
    description:
      'An ELF binary or script directly in a world-writable place, or one directory down, is named after a system program or daemon (sshd, systemd, kworker, cron, bash…): a copy made to look familiar in a process list. Compare its hash with the real program\'s, copy it, and find the process running it. Deeper files (unpacked images, build trees) are left out.',
    falsepositives: ['test copies of system programs dropped in /tmp by administrators'],
    references: ['https://attack.mitre.org/techniques/T1036/005/'],
    reads: ['temp-files'],
    match: (r: RowOf<'temp-files'>) =>
      executableContent(r) && (rel(r)?.length ?? 99) <= 2 && SYSTEM_PROGRAM_NAMES.has(baseName(r.path).replace(/^\.+/, '')) ? fileEvidence(r) : null,
  }),
  rowRule({
    id: 'files.package-rootkit-target-changed',
    title: 'packaged system tool or core library changed on disk',
    severity: 'critical',
    attack: ['T1554', 'T1014'],
    description:
      'A file that a package installed no longer matches the package\'s checksum, and it is one that rootkits replace to hide themselves: ps, ls, ss, netstat, sshd, login, su, a PAM module, or a core library (libc, libprocps, libkeyutils). Every listing on this host may be lying. Copy the file, compare it with the same version from a mirror (the md5sums on disk can be forged too), use goldhour\'s own readings rather than the host\'s tools, and plan to rebuild.',
    falsepositives: ['hand-patched binaries (rare); a file changed by a package upgrade interrupted midway'],
    references: ['https://attack.mitre.org/techniques/T1554/', 'https://attack.mitre.org/techniques/T1014/'],
    reads: ['packages'],
    match: (r: RowOf<'packages'>) => (changedPackaged(r) && rootkitTarget(r.path!) ? packageEvidence(r) : null),
  }),
  rowRule({
    id: 'files.package-file-changed',
    title: 'packaged program or library changed on disk',
    severity: 'high',
    attack: ['T1554'],
    description:
      'A program or library installed by a package no longer matches the checksum the package recorded (conffiles excepted): replaced or patched after installation. Intruders backdoor binaries this way to survive reinstalls of their own tools. Copy the file, compare it with the package from a mirror, and reinstall the package after preserving it.',
    falsepositives: ['files changed by local build scripts or by software that patches itself', 'dpkg-divert setups not recorded in the package database'],
    references: ['https://attack.mitre.org/techniques/T1554/'],
    reads: ['packages'],
    match: (r: RowOf<'packages'>) => (changedPackaged(r) && !rootkitTarget(r.path!) ? packageEvidence(r) : null),
  }),
  rowRule({
    id: 'files.immutable',
    title: 'immutable attribute on a file where persistence hides',
    severity: 'high',
    attack: ['T1222.002'],
    description:
      'chattr +i was set on a crontab, authorized_keys, shell history, an account or sudo file, a loader, PAM, systemd or init file: not even root can change or delete it until the flag is removed. Miners and botnets (TeamTNT, Kinsing, the Redis worms) lock their persistence this way so that cleaning fails. Keep the evidence, then `chattr -i` before cleaning, and look for a renamed chattr (intruders hide it).',
    falsepositives: ['administrators who lock /etc/passwd or sudoers against changes (rare)'],
    references: ['https://attack.mitre.org/techniques/T1222/002/'],
    reads: ['file-attributes'],
    match: (r: RowOf<'file-attributes'>) => (r.immutable === true && r.area !== 'network' ? { evidence: { path: r.path, area: r.area, flags: r.flags, user: r.user } } : null),
  }),
  rowRule({
    id: 'files.history-to-null',
    title: 'shell history linked to /dev/null',
    severity: 'high',
    attack: ['T1690'],
    description:
      'A shell history file is a symlink to /dev/null (or another device): nothing typed in that account\'s shells is recorded. Intruders do this (ln -sf /dev/null ~/.bash_history) right after getting in. The commands are lost; look instead at the auth log, process start times, and audit logs for what the account did.',
    falsepositives: ['privacy-minded users who disable their own history'],
    references: ['https://attack.mitre.org/techniques/T1690/'],
    reads: ['shell-history'],
    match: (r: RowOf<'shell-history'>) =>
      r.present && (r.linkTarget === '/dev/null' || r.targetKind === 'char-device') ? { evidence: { path: r.path, linkTarget: r.linkTarget, user: r.user } } : null,
  }),
  rowRule({
    id: 'files.history-emptied',
    title: 'shell history file is empty',
    severity: 'medium',
    attack: ['T1070.003'],
    description:
      'A shell history file exists but holds nothing: cleared with history -c, truncated with > ~/.bash_history, or never written. For an account that logs in, an empty history after the incident window (compare ctime) means someone wiped it. Look at the auth log and process start times instead, and at the file\'s ctime.',
    falsepositives: ['accounts that never ran an interactive shell but had the file created'],
    references: ['https://attack.mitre.org/techniques/T1070/003/'],
    reads: ['shell-history'],
    match: (r: RowOf<'shell-history'>) =>
      r.present && r.empty === true && r.kind === 'file' ? { evidence: { path: r.path, user: r.user, ctime: r.ctime }, ts: tsOf(r.ctime) } : null,
  }),
  rowRule({
    id: 'files.login-records-zeroed',
    title: 'zeroed records in wtmp or btmp',
    severity: 'high',
    attack: ['T1685.006'],
    description:
      'Whole login records in wtmp or btmp are zero bytes: log cleaners (utmp wipers such as zap, mig-logcleaner) overwrite the records of the intruder\'s logins with zeros. The records are lost; their positions (between which logins) date the gap. Check lastlog, the auth log and the journal for the logins wtmp no longer shows.',
    falsepositives: ['none known: login programs never write zero records'],
    references: ['https://attack.mitre.org/techniques/T1685/006/'],
    reads: ['logins'],
    match: (r: RowOf<'logins'>) => (r.kind === 'file' && (r.zeroRecords ?? 0) > 0 ? { evidence: { path: r.source, zeroRecords: r.zeroRecords, records: r.records } } : null),
  }),
  rowRule({
    id: 'files.login-records-torn',
    title: 'wtmp or btmp does not end on a whole record',
    severity: 'medium',
    attack: ['T1685.006'],
    description:
      'The file has bytes after its last whole 384-byte record: it was edited or cut with a tool that does not know the record size (a truncation to hide the last logins), or a write was torn by a crash. Compare its last record time with the auth log and lastlog.',
    falsepositives: ['a crash or full disk while a login was being recorded'],
    references: ['https://attack.mitre.org/techniques/T1685/006/'],
    reads: ['logins'],
    match: (r: RowOf<'logins'>) => (r.kind === 'file' && (r.trailingBytes ?? 0) > 0 ? { evidence: { path: r.source, trailingBytes: r.trailingBytes, lastTime: r.lastTime } } : null),
  }),
  rowRule({
    id: 'files.log-to-null',
    title: 'log or login record file linked to /dev/null',
    severity: 'high',
    attack: ['T1685.006'],
    description:
      'A log (auth.log, syslog, wtmp, btmp, lastlog…) is a symlink to /dev/null or another device: everything written to it since is gone. Intruders do this to stop logging before they work. Find when (the link\'s ctime), restore the file, and rely on the journal, remote logging and process facts for the period.',
    falsepositives: ['hosts where an administrator silenced a noisy log this way'],
    references: ['https://attack.mitre.org/techniques/T1685/006/'],
    reads: ['logs', 'logins'],
    match: (r: RowOf<'logs'> | RowOf<'logins'>) => {
      if ('category' in r) return r.linkTarget === '/dev/null' || r.targetKind === 'char-device' ? { evidence: { path: r.path, linkTarget: r.linkTarget } } : null;
      return r.kind === 'file' && (r.linkTarget === '/dev/null' || r.targetKind === 'char-device') ? { evidence: { path: r.source, linkTarget: r.linkTarget } } : null;
    },
  }),
  rowRule({
    id: 'files.log-wiped',
    title: 'log overwritten with NUL bytes',
    severity: 'high',
    attack: ['T1685.006'],
    description:
      'A text log holds runs of NUL bytes where lines should be: it was truncated while its writer kept writing at the old offset, or lines were overwritten with zeros by a log cleaner. The lines are lost; the position of the zeros dates the gap. Compare with rotated copies, the journal and remote logs.',
    falsepositives: ['a crash of the host while the log was being written (a single short run at the end)'],
    references: ['https://attack.mitre.org/techniques/T1685/006/'],
    reads: ['logs'],
    match: (r: RowOf<'logs'>) =>
      r.category !== 'journal' && r.category !== 'journal-export' && (r.nulRuns ?? 0) > 0
        ? { evidence: { path: r.path, nulBytes: r.nulBytes, nulRuns: r.nulRuns, allNul: r.allNul }, ts: tsOf(r.mtime) }
        : null,
  }),
  rowRule({
    id: 'files.auth-log-emptied',
    title: 'auth log is empty',
    severity: 'medium',
    attack: ['T1685.006'],
    description:
      'auth.log (or secure) exists but is empty. Log rotation leaves a new empty file, but on a host where people log in it fills within minutes; an empty one with a recent ctime and no rotation just before points to `> /var/log/auth.log`. Compare with its rotated copies, lastlog, wtmp and the journal.',
    falsepositives: ['a log rotated moments before collection', 'hosts where rsyslog does not write auth messages'],
    references: ['https://attack.mitre.org/techniques/T1685/006/'],
    reads: ['logs'],
    match: (r: RowOf<'logs'>) => (AUTH_LOG.test(r.path) && r.empty === true ? { evidence: { path: r.path, ctime: r.ctime }, ts: tsOf(r.ctime) } : null),
  }),
  joinRule<{ lastlog: RowOf<'logins'> | null; wtmpLast: number | null; wtmpWhole: boolean }>({
    id: 'files.wtmp-missing-logins',
    title: 'lastlog records a login that wtmp does not have',
    severity: 'high',
    attack: ['T1685.006'],
    description:
      'lastlog says an account logged in later than the last login wtmp records (in any of its rotations): both are written at every login, so wtmp lost records, by truncation or by an editor that removed the intruder\'s entries. The lastlog entry names the account, time and source of a login to look into; check the auth log and journal around it.',
    falsepositives: ['wtmp rotated and its old copies deleted while lastlog kept older entries (the check only looks at logins later than wtmp\'s last one)'],
    references: ['https://attack.mitre.org/techniques/T1685/006/'],
    reads: ['logins'],
    start: () => ({ lastlog: null, wtmpLast: null, wtmpWhole: true }),
    row: (s, t) => {
      if (t.source !== 'logins') return;
      const r = t.row;
      if (r.kind === 'lastlog' && r.time !== null && (s.lastlog === null || Date.parse(r.time) > Date.parse(s.lastlog.time!))) s.lastlog = r;
      if (!/(?:^|\/)wtmp[^/]*$/.test(r.source)) return;
      if (r.kind === 'file' && r.parsedWhole === false) s.wtmpWhole = false;
      if (r.kind === 'record' && r.recordType === 'USER_PROCESS' && r.time !== null) s.wtmpLast = Math.max(s.wtmpLast ?? 0, Date.parse(r.time));
    },
    finish: (s) => {
      if (!s.lastlog || !s.wtmpWhole) return [];
      const at = Date.parse(s.lastlog.time!);
      if (s.wtmpLast !== null && at <= s.wtmpLast + 60_000) return [];
      const wtmpLast = s.wtmpLast === null ? null : new Date(s.wtmpLast).toISOString();
      return [{ evidence: { path: '/var/log/wtmp', user: s.lastlog.user, loginTime: s.lastlog.time, from: s.lastlog.host, wtmpLastLogin: wtmpLast }, ts: tsOf(s.lastlog.time) }];
    },
  }),
];

function changedPackaged(r: RowOf<'packages'>): boolean {
  return r.kind === 'file' && r.path !== null && r.conffile !== true && (r.result === 'changed' || r.result === 'not-regular');
}

function rootkitTarget(path: string): boolean {
  const name = baseName(path);
  return ROOTKIT_TARGETS.has(name) || ROOTKIT_LIBRARIES.test(name) || /\/security\/pam_[^/]+\.so$/.test(path);
}

function packageEvidence(r: RowOf<'packages'>) {
  return {
    evidence: { path: r.path, package: r.package, result: r.result, expectedMd5: r.expectedMd5, actualMd5: r.actualMd5, ...(r.detail ? { detail: r.detail } : {}) },
  };
}
