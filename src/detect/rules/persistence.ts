import type { Evidence } from '../finding.js';
import { rowRule, type Rule } from '../rule.js';
import type { RowOf } from '../rows.js';
import { randomLookingName } from '../signs/names.js';
import { baseName, hasHiddenComponent, inHome, inTempDir } from '../signs/paths.js';
import { clip, recent, tsOf } from './evidence.js';

/**
 * Keys published in reports on SSH-worm and botnet campaigns, by the comment
 * they are added with. Data to extend; IOC files (--ioc) are the way to add
 * fingerprints of a case.
 */
export const KNOWN_BAD_KEY_COMMENTS: readonly { comment: RegExp; who: string }[] = [{ comment: /^mdrfckr$/, who: 'Outlaw (Dota) botnet' }];

/** Where PAM modules are installed; a module loaded from anywhere else was put there by hand. */
const PAM_MODULE_DIR = /^\/(?:usr\/)?lib(?:32|64|x32)?\/(?:[^/]+\/)?security\/[^/]+$/;
/** Who is expected to have unrestricted sudo. */
const SUDO_ADMINS = new Set(['root', '%sudo', '%admin', '%wheel', '%root']);

const odd = (p: string) => inTempDir(p) || hasHiddenComponent(p) || inHome(p);
const at = (path: string, line: number | null, text: string | null, extra: Evidence = {}): Evidence => ({
  path,
  ...(line !== null ? { line } : {}),
  ...(text !== null ? { text: clip(text) } : {}),
  ...extra,
});

export const PERSISTENCE_RULES: Rule[] = [
  rowRule({
    id: 'persistence.binfmt.odd-interpreter',
    title: 'binfmt_misc handler runs a program from a temporary or hidden place',
    severity: 'high',
    attack: ['T1546'],
    description:
      'A binfmt_misc handler (registered in the running kernel, or in a binfmt.d file that systemd-binfmt registers at every boot) hands every file that matches its magic or extension to an interpreter in /tmp, /dev/shm, /var/tmp, a home or a hidden directory: running any such file, or a file the intruder plants with that extension, runs their program, as root when the handler has the C flag. Packaged handlers (qemu-user, wine, java) live under /usr. Copy the interpreter, note the flags and the match, and disable the handler (echo -1 > /proc/sys/fs/binfmt_misc/NAME) once preserved.',
    falsepositives: ['an emulator or runtime unpacked by hand under a home directory and registered by its user'],
    references: ['https://docs.kernel.org/admin-guide/binfmt-misc.html', 'https://attack.mitre.org/techniques/T1546/'],
    reads: ['binfmt'],
    match: (r: RowOf<'binfmt'>) =>
      (r.kind === 'handler' || r.kind === 'registration') && r.interpreter !== null && odd(r.interpreter)
        ? { evidence: at(r.source ?? r.path, r.lineNumber, r.raw, { handler: r.name, interpreter: r.interpreter, flags: r.flags }), ts: tsOf(r.mtime) }
        : null,
  }),
  rowRule({
    id: 'persistence.systemd.unit-in-temp',
    title: 'systemd unit file lives in a temporary directory',
    severity: 'high',
    attack: ['T1543.002'],
    description:
      'A unit file, or the target of an enabling link, is in /tmp, /var/tmp or /dev/shm: systemd loads and runs it, but it sits where no package puts units and (in /dev/shm) vanishes at reboot after doing its work. Keep its copy, read what it runs, and remove the link after preserving it.',
    falsepositives: ['none known'],
    references: ['https://attack.mitre.org/techniques/T1543/002/'],
    reads: ['systemd'],
    match: (r: RowOf<'systemd'>) => {
      const where = [r.path, r.linkFinal].find((p): p is string => !!p && inTempDir(p));
      return where && r.kind !== 'exec' ? { evidence: at(where, null, r.linkTarget, { unit: r.unit, kind: r.kind }), ts: tsOf(r.mtime) } : null;
    },
  }),
  rowRule({
    id: 'persistence.rc.random-name',
    title: 'init script with a random-looking name and no LSB header',
    severity: 'high',
    attack: ['T1037.004'],
    description:
      'An /etc/init.d script has no LSB header (every packaged one has) and a name of random letters: the XorDDoS family and several botnets install themselves as /etc/init.d/<random> with rc links in every runlevel. Keep the script copy, read what it starts, remove it and its rc links, and look for the same name under /usr/bin, /lib and in cron.',
    falsepositives: ['hand-written scripts of administrators with terse names'],
    references: ['https://attack.mitre.org/techniques/T1037/004/', 'https://www.microsoft.com/en-us/security/blog/2022/05/19/rise-in-xorddos-a-deeper-look-at-the-stealthy-ddos-malware-targeting-linux-devices/'],
    reads: ['init-scripts'],
    match: (r: RowOf<'init-scripts'>) =>
      r.kind === 'script' && r.lsbProvides === null && randomLookingName(baseName(r.path)) ? { evidence: at(r.path, null, r.firstLines), ts: tsOf(r.mtime) } : null,
  }),
  rowRule({
    id: 'persistence.ld-so-preload',
    title: 'libraries preloaded into every program',
    severity: 'high',
    attack: ['T1574.006'],
    description:
      '/etc/ld.so.preload (or LD_PRELOAD in /etc/environment) names a library that the dynamic loader puts into every program started on the host: the hook of userland rootkits (libprocesshider, Azazel, the Kinsing and TeamTNT rootkits) that hide files, processes and connections from ps, ls and netstat. The file does not exist on a clean host. Copy and hash the library, check the hidden-processes findings, and remove the entry only after acquiring memory.',
    falsepositives: ['performance libraries (jemalloc, libeatmydata) set by an administrator'],
    references: ['https://attack.mitre.org/techniques/T1574/006/', 'https://man7.org/linux/man-pages/man8/ld.so.8.html'],
    reads: ['preload'],
    match: (r: RowOf<'preload'>) =>
      r.kind === 'preload' && r.value
        ? { evidence: at(r.source ?? r.path, r.lineNumber, r.raw, { library: r.value, exists: r.exists, ...(r.sha256 ? { sha256: r.sha256 } : {}) }), ts: tsOf(r.mtime) }
        : null,
  }),
  rowRule({
    id: 'persistence.ssh.known-bad-key',
    title: 'authorized key known from a published campaign',
    severity: 'critical',
    attack: ['T1098.004'],
    description:
      'An authorized key carries the comment of a key that a known botnet or worm installs on every host it takes (see the list in src/detect/rules/persistence.ts): whoever holds the private key logs in without a password. Remove the key after preserving the file, rotate every credential on the host, and look for the campaign\'s other traces (miners, cron jobs, changed passwords).',
    falsepositives: ['none known'],
    references: ['https://attack.mitre.org/techniques/T1098/004/', 'https://www.trendmicro.com/en_us/research/19/b/outlaw-hacking-groups-botnet-observed-spreading-miner-perl-based-backdoor.html'],
    reads: ['ssh-keys'],
    match: (r: RowOf<'ssh-keys'>) => {
      const known = r.kind === 'key' && r.comment !== null ? KNOWN_BAD_KEY_COMMENTS.find((k) => k.comment.test(r.comment!)) : undefined;
      return known ? { evidence: at(r.path, r.lineNumber, r.raw, { fingerprint: r.fingerprint, comment: r.comment, campaign: known.who }), ts: tsOf(r.mtime) } : null;
    },
  }),
  rowRule({
    id: 'persistence.ssh.forced-command',
    title: 'authorized key with a forced command',
    severity: 'medium',
    attack: ['T1098.004'],
    description:
      'A key has a command= option: whatever the client asks, this command runs when the key logs in. Backups and git hosting use it legitimately; intruders use it to hide a shell or a tunnel behind an innocent-looking key. Read the command: anything that spawns a shell, downloads, or runs from a temporary directory is a backdoor.',
    falsepositives: ['backup (rrsync, borg serve), git and monitoring keys'],
    references: ['https://attack.mitre.org/techniques/T1098/004/', 'https://man.openbsd.org/sshd#AUTHORIZED_KEYS_FILE_FORMAT'],
    reads: ['ssh-keys'],
    match: (r: RowOf<'ssh-keys'>) =>
      r.kind === 'key' && r.forcedCommand !== null ? { evidence: at(r.path, r.lineNumber, r.forcedCommand, { fingerprint: r.fingerprint, comment: r.comment }), ts: tsOf(r.mtime) } : null,
  }),
  rowRule({
    id: 'persistence.ssh.authorized-keys2',
    title: 'keys in authorized_keys2',
    severity: 'medium',
    attack: ['T1098.004'],
    description:
      'A key is in an authorized_keys2 file, which sshd still reads by default but administrators almost never use: intruders put keys there because nobody looks. Check the key against the owners of the account, and remove it if nobody claims it.',
    falsepositives: ['very old setups that still use authorized_keys2'],
    references: ['https://attack.mitre.org/techniques/T1098/004/'],
    reads: ['ssh-keys'],
    match: (r: RowOf<'ssh-keys'>) =>
      r.kind === 'key' && baseName(r.path) === 'authorized_keys2' ? { evidence: at(r.path, r.lineNumber, r.raw, { fingerprint: r.fingerprint, comment: r.comment }), ts: tsOf(r.mtime) } : null,
  }),
  rowRule({
    id: 'persistence.ssh.keys-changed-recently',
    title: 'authorized keys file changed in the last 7 days',
    severity: 'medium',
    attack: ['T1098.004'],
    description:
      'An authorized keys file was modified within the week before collection. Adding a key is the most common way intruders keep access. Compare its keys with the ones the account\'s owners use (the fingerprints match sshd\'s "Accepted publickey" log lines) and with the file\'s backup, and check the mtime against the incident window (mtime can be forged; the ctime in the manifest cannot).',
    falsepositives: ['keys rotated or added by administrators or configuration management'],
    references: ['https://attack.mitre.org/techniques/T1098/004/'],
    reads: ['ssh-keys'],
    match: (r: RowOf<'ssh-keys'>, ctx) =>
      r.kind === 'file' && /^authorized_keys2?$/.test(baseName(r.path)) && r.fileType !== 'missing' && recent(r.mtime, ctx.seen('ssh-keys'))
        ? { evidence: at(r.path, null, null, { users: r.users, mtime: r.mtime }), ts: tsOf(r.mtime) }
        : null,
  }),
  rowRule({
    id: 'persistence.kernel-module.hidden',
    title: 'loaded kernel module hidden from /proc/modules',
    severity: 'critical',
    attack: ['T1014', 'T1547.006'],
    description:
      'A loadable module is live in /sys/module but missing from /proc/modules: it unlinked itself from the module list, which is what kernel rootkits (Diamorphine, Reptile, Drovorub) do first. Everything the kernel reports may be filtered now. Acquire physical memory (goldhour memory) before anything else and plan to rebuild the host.',
    falsepositives: ['none known'],
    references: ['https://attack.mitre.org/techniques/T1014/', 'https://attack.mitre.org/techniques/T1547/006/'],
    reads: ['kernel-modules'],
    match: (r: RowOf<'kernel-modules'>) => (r.kind === 'sysfs' && r.state === 'live' ? { evidence: at(r.path, null, null, { module: r.name }) } : null),
  }),
  rowRule({
    id: 'persistence.kernel-module.no-file',
    title: 'loaded kernel module with no file on disk',
    severity: 'high',
    attack: ['T1547.006'],
    description:
      'A module is loaded but no file of that name exists in the running kernel\'s module tree: it was loaded from somewhere else (insmod of a file in /tmp, since deleted) or its file was removed to leave no trace. Note its taint letters, acquire memory, and look for insmod or modprobe in shell histories and the audit log.',
    falsepositives: ['modules of a kernel package removed while its kernel still runs', 'DKMS modules built outside /lib/modules'],
    references: ['https://attack.mitre.org/techniques/T1547/006/'],
    reads: ['kernel-modules'],
    match: (r: RowOf<'kernel-modules'>) =>
      r.kind === 'loaded' && r.onDisk === false ? { evidence: at(r.path || `/proc/modules`, null, null, { module: r.name, taint: r.taint, release: r.release }) } : null,
  }),
  rowRule({
    id: 'persistence.kernel-module.unsigned',
    title: 'out-of-tree or unsigned kernel module loaded',
    severity: 'medium',
    attack: ['T1547.006'],
    description:
      'A loaded module taints the kernel as out-of-tree (O) or unsigned (E): it was not built with the kernel. Rootkit modules always are; so are some legitimate drivers (VirtualBox, NVIDIA, ZFS via DKMS). Check that the module name belongs to software the host is meant to run and that its file is owned by a package.',
    falsepositives: ['DKMS drivers: VirtualBox, NVIDIA, ZFS, WireGuard on old kernels, vendor storage drivers'],
    references: ['https://docs.kernel.org/admin-guide/tainted-kernels.html'],
    reads: ['kernel-modules'],
    match: (r: RowOf<'kernel-modules'>) =>
      r.kind === 'loaded' && r.taint !== null && /[OE]/.test(r.taint) ? { evidence: at(r.path || '/proc/modules', null, null, { module: r.name, taint: r.taint }) } : null,
  }),
  rowRule({
    id: 'persistence.pam.accept-anyone',
    title: 'PAM rule that lets anyone authenticate',
    severity: 'critical',
    attack: ['T1556.003'],
    description:
      'An auth rule succeeds for everyone and ends the stack: pam_succeed_if with a condition every account meets (uid >= 0) or pam_permit, as sufficient. Any password (or none) is accepted for the services that include this file. Keep the file copy, restore the packaged PAM configuration, and review every login since the file\'s mtime.',
    falsepositives: ['none on a production host'],
    references: ['https://attack.mitre.org/techniques/T1556/003/', 'https://man7.org/linux/man-pages/man8/pam_succeed_if.8.html'],
    reads: ['pam'],
    match: (r: RowOf<'pam'>) => {
      if (r.kind !== 'rule' || r.type !== 'auth' || !r.module) return null;
      const ends = r.control === 'sufficient' || (r.controlActions ?? []).some((a) => a.value === 'success' && (a.action === 'done' || a.action === 'ok'));
      const mod = baseName(r.module);
      const always = mod === 'pam_permit.so' || (mod === 'pam_succeed_if.so' && acceptsEveryUid(r.args ?? []));
      return ends && always ? { evidence: at(r.path, r.lineNumber, r.raw, { service: r.service }), ts: tsOf(r.mtime) } : null;
    },
  }),
  rowRule({
    id: 'persistence.pam.exec',
    title: 'PAM runs a program (pam_exec)',
    severity: 'high',
    attack: ['T1556.003'],
    description:
      'A PAM rule runs an external program through pam_exec at login; with expose_authtok the program receives the password typed. Intruders use it to log passwords or to run a backdoor at each login. Read the program (its file row in the PAM collector, and the copy) and check who installed the rule.',
    falsepositives: ['site scripts for home-directory creation or login notification'],
    references: ['https://attack.mitre.org/techniques/T1556/003/', 'https://man7.org/linux/man-pages/man8/pam_exec.8.html'],
    reads: ['pam'],
    match: (r: RowOf<'pam'>) =>
      r.kind === 'rule' && r.module !== null && baseName(r.module) === 'pam_exec.so'
        ? { evidence: at(r.path, r.lineNumber, r.raw, { service: r.service, program: (r.execCommand ?? []).join(' '), exposeAuthtok: (r.args ?? []).includes('expose_authtok') }), ts: tsOf(r.mtime) }
        : null,
  }),
  rowRule({
    id: 'persistence.pam.module-outside-system',
    title: 'PAM module loaded from outside the system module directory',
    severity: 'high',
    attack: ['T1556.003'],
    description:
      'A PAM rule loads a module from a path that is not a system security directory: a planted .so that logs or accepts passwords (a "skeleton key"). Copy and hash the module, compare it with the packaged modules, and restore the stack.',
    falsepositives: ['third-party authentication modules installed under /opt or /usr/local'],
    references: ['https://attack.mitre.org/techniques/T1556/003/'],
    reads: ['pam'],
    match: (r: RowOf<'pam'>) => {
      if (r.kind !== 'rule' || r.module === null) return null;
      const file = r.modulePath ?? (r.module.startsWith('/') ? r.module : null);
      return file && !PAM_MODULE_DIR.test(file)
        ? { evidence: at(r.path, r.lineNumber, r.raw, { module: file, ...(r.moduleSha256 ? { sha256: r.moduleSha256 } : {}) }), ts: tsOf(r.moduleMtime ?? r.mtime) }
        : null;
    },
  }),
  rowRule({
    id: 'persistence.sudoers.nopasswd-all',
    title: 'sudo gives everything without a password to a non-admin',
    severity: 'high',
    attack: ['T1548.003'],
    description:
      'A sudoers line lets a user or group that is not root or an administrators\' group (sudo, admin, wheel) run any command as root without a password. Intruders add such a line for a service account (www-data, postgres) or an account they created, so a shell as that account is a root shell. Keep the file copy, check who the users are, and remove the line.',
    falsepositives: ['cloud images that give their default user NOPASSWD ALL (cloud-init: /etc/sudoers.d/90-cloud-init-users)', 'automation accounts (ansible) given it on purpose'],
    references: ['https://attack.mitre.org/techniques/T1548/003/'],
    reads: ['sudoers'],
    match: (r: RowOf<'sudoers'>) => {
      if (r.kind !== 'spec' || !r.users) return null;
      const nopasswdAll = (r.specs ?? []).some((s) => s.command === 'ALL' && s.tags.includes('NOPASSWD'));
      const others = r.users.filter((u) => !SUDO_ADMINS.has(u));
      return nopasswdAll && others.length > 0 ? { evidence: at(r.path, r.lineNumber, r.raw, { users: others }), ts: tsOf(r.mtime) } : null;
    },
  }),
  rowRule({
    id: 'persistence.preload.odd-library',
    title: 'preloaded library in a temporary, hidden or home directory',
    severity: 'critical',
    attack: ['T1574.006', 'T1014'],
    description:
      'The library /etc/ld.so.preload (or LD_PRELOAD in /etc/environment) loads into every program lives in a temporary, hidden or home directory: no administrator puts a system-wide preload there; rootkits do. Copy and hash it before removing the entry, and acquire memory.',
    falsepositives: ['none known'],
    references: ['https://attack.mitre.org/techniques/T1574/006/'],
    reads: ['preload'],
    match: (r: RowOf<'preload'>) =>
      r.kind === 'preload' && r.value && r.value.split(/[\s:]+/).some((l) => l.startsWith('/') && odd(l))
        ? { evidence: at(r.source ?? r.path, r.lineNumber, r.raw, { library: r.value }), ts: tsOf(r.mtime) }
        : null,
  }),
];

/** pam_succeed_if conditions every account meets: uid >= 0, uid > -1 (and the word forms). */
function acceptsEveryUid(args: readonly string[]): boolean {
  for (let i = 0; i + 2 < args.length; i++) {
    if (args[i] !== 'uid') continue;
    const op = args[i + 1];
    const n = Number(args[i + 2]);
    if (((op === '>=' || op === 'ge') && n <= 0) || ((op === '>' || op === 'gt') && n < 0)) return true;
  }
  return false;
}
