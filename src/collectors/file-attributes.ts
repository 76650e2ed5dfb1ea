import { z } from 'zod';
import { HostReadError } from '../host/host.js';
import { parseLsattr } from '../host/lsattr.js';
import { readOwners } from '../host/owners.js';
import type { CollectorContext } from './collector.js';
import { defineCollector } from './collector.js';

type Area = 'accounts' | 'sudo' | 'cron' | 'ssh' | 'history' | 'shell-startup' | 'loader' | 'pam' | 'systemd' | 'init' | 'network';

/** System files and directories intruders lock with chattr +i/+a; `*` lists a directory's entries (one level). */
const SYSTEM_PATHS: [Area, string][] = [
  ['accounts', '/etc/passwd'], ['accounts', '/etc/shadow'], ['accounts', '/etc/group'], ['accounts', '/etc/gshadow'],
  ['sudo', '/etc/sudoers'], ['sudo', '/etc/sudoers.d'], ['sudo', '/etc/sudoers.d/*'],
  ['cron', '/etc/crontab'], ['cron', '/etc/cron.d'], ['cron', '/etc/cron.d/*'], ['cron', '/etc/cron.hourly/*'], ['cron', '/etc/cron.daily/*'],
  ['cron', '/etc/cron.weekly/*'], ['cron', '/etc/cron.monthly/*'], ['cron', '/var/spool/cron'], ['cron', '/var/spool/cron/*'],
  ['cron', '/var/spool/cron/crontabs'], ['cron', '/var/spool/cron/crontabs/*'], ['cron', '/var/spool/cron/atjobs/*'], ['cron', '/etc/anacrontab'],
  ['ssh', '/etc/ssh/sshd_config'], ['ssh', '/etc/ssh/sshd_config.d/*'], ['ssh', '/etc/ssh/ssh_config'],
  ['loader', '/etc/ld.so.preload'], ['loader', '/etc/ld.so.conf'], ['loader', '/etc/ld.so.conf.d/*'],
  ['shell-startup', '/etc/profile'], ['shell-startup', '/etc/profile.d/*'], ['shell-startup', '/etc/bash.bashrc'], ['shell-startup', '/etc/environment'],
  ['shell-startup', '/etc/rc.local'],
  ['pam', '/etc/pam.d/*'], ['systemd', '/etc/systemd/system'], ['systemd', '/etc/systemd/system/*'], ['init', '/etc/init.d/*'],
  ['network', '/etc/hosts'], ['network', '/etc/resolv.conf'],
];

/** Per-user files, relative to each home directory of the examined passwd. */
const HOME_PATHS: [Area, string][] = [
  ['ssh', '.ssh'], ['ssh', '.ssh/authorized_keys'], ['ssh', '.ssh/authorized_keys2'], ['ssh', '.ssh/rc'],
  ['history', '.bash_history'], ['history', '.zsh_history'], ['history', '.sh_history'], ['history', '.history'], ['history', '.ash_history'],
  ['history', '.mysql_history'], ['history', '.psql_history'], ['history', '.python_history'], ['history', '.viminfo'], ['history', '.lesshst'],
  ['shell-startup', '.bashrc'], ['shell-startup', '.bash_profile'], ['shell-startup', '.bash_login'], ['shell-startup', '.profile'],
  ['shell-startup', '.bash_logout'], ['shell-startup', '.zshrc'], ['shell-startup', '.zprofile'], ['shell-startup', '.zshenv'],
];

const Row = z.object({
  path: z.string().describe('file or directory checked'),
  area: z.enum(['accounts', 'sudo', 'cron', 'ssh', 'history', 'shell-startup', 'loader', 'pam', 'systemd', 'init', 'network']).describe('why it is on the list'),
  user: z.string().nullable().describe('for files under a home directory: the account it belongs to (examined passwd)'),
  type: z.enum(['file', 'dir']).describe('what the path is'),
  flags: z.string().nullable().describe('the attribute letters as lsattr printed them (e.g. ----i---------e-------); null when lsattr could not read them (see errors)'),
  immutable: z.boolean().nullable().describe('chattr +i: cannot be modified, deleted or renamed, even by root, until the flag is removed'),
  appendOnly: z.boolean().nullable().describe('chattr +a: can only be appended to (a history file that cannot be truncated, or a crontab that cannot be cleaned)'),
});

type Candidate = { path: string; area: Area; user: string | null; type: 'file' | 'dir' };

export const fileAttributesCollector = defineCollector({
  name: 'file-attributes',
  title: 'Immutable and append-only files where persistence hides',
  description:
    'Inode flags (lsattr) of the files intruders lock so that administrators cannot remove their persistence: account ' +
    'files, sudoers, crontabs and cron directories, sshd configuration, authorized_keys and ~/.ssh, shell history and ' +
    'start-up files of every home directory in the examined passwd, ld.so.preload and loader configuration, PAM, systemd ' +
    'and init scripts, hosts and resolv.conf. One row per path that exists. An immutable (i) authorized_keys, crontab or ' +
    'passwd is almost never legitimate; an append-only (a) or immutable history file hides nothing but shows someone ' +
    'cared. Note that `chattr -i` is needed before cleaning such a file.',
  preconditions:
    'Live host with lsattr (e2fsprogs) in a system directory: the flags have no Node API (FS_IOC_GETFLAGS is an ioctl), so ' +
    'the program is run once with every path as an argument and recorded. On --root nothing is checked (recorded as an error). ' +
    'Works on ext2/3/4, XFS, Btrfs and F2FS; tmpfs and overlay files report "not supported".',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    if (!ctx.host.live) {
      ctx.error(null, 'ENOTCHECKED', 'file attributes need lsattr on a live host: not checked on --root');
      return;
    }
    const candidates = await gather(ctx);
    if (candidates.length === 0) return;
    const args = candidates.map((c) => Buffer.from(c.path));
    const run = await ctx.runTool('lsattr', ['-d', ...candidates.map((c) => c.path)], { purpose: 'read immutable/append-only flags of persistence files (no Node API for FS_IOC_GETFLAGS)' });
    if (!run) {
      ctx.error('/usr/bin/lsattr', 'ENOTOOL', 'lsattr not found in /usr/sbin, /usr/bin, /sbin or /bin: file attributes not checked');
      return;
    }
    const { entries, missing, unmatched } = parseLsattr(run.stdout, args);
    if (unmatched.length > 0) ctx.error(run.path, 'EPARSE', `${unmatched.length} lsattr line(s) not matched to a path, first: ${unmatched[0]}`);
    if (missing.length > 0) ctx.error(run.path, 'ENOTCHECKED', `lsattr could not read the flags of ${missing.length} path(s) (see its stderr under commands/): first ${missing[0]!.toString()}`);
    const byPath = new Map(entries.map((e) => [e.path.toString(), e]));
    for (const c of candidates) {
      const e = byPath.get(c.path);
      yield { ...c, flags: e?.flags ?? null, immutable: e ? e.immutable : null, appendOnly: e ? e.appendOnly : null };
    }
  },
});

async function gather(ctx: CollectorContext): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = async (path: string, area: Area, user: string | null) => {
    if (seen.has(path)) return;
    seen.add(path);
    try {
      const st = await ctx.host.lstat(path);
      if (st.isFile()) out.push({ path, area, user, type: 'file' });
      else if (st.isDirectory()) out.push({ path, area, user, type: 'dir' });
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') ctx.error(path, err.code, err.message);
    }
  };
  const expand = async (pattern: string, area: Area, user: string | null) => {
    if (!pattern.endsWith('/*')) return add(pattern, area, user);
    const dir = pattern.slice(0, -2);
    let names: string[];
    try {
      names = await ctx.host.readdir(dir);
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') ctx.error(dir, err.code, err.message);
      return;
    }
    for (const n of names.sort()) {
      if (n.includes('\uFFFD') || n.includes('\n')) {
        ctx.error(`${dir}/${n}`, 'EBADNAME', 'name is not valid UTF-8 or holds a newline: flags not checked (lsattr takes text arguments)');
        continue;
      }
      await add(`${dir}/${n}`, area, user);
    }
  };
  for (const [area, p] of SYSTEM_PATHS) await expand(p, area, null);
  const owners = await readOwners(ctx.host);
  const homes = new Set<string>();
  for (const u of owners.passwd) {
    if (!u.home.startsWith('/') || u.home === '/' || homes.has(u.home) || u.home === '/nonexistent') continue;
    homes.add(u.home);
    for (const [area, rel] of HOME_PATHS) await add(`${u.home.replace(/\/+$/, '')}/${rel}`, area, u.name);
  }
  return out;
}
