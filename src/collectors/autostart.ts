import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import { isAptHookKey, parseAptConf } from '../host/apt-conf.js';
import { runPartsName } from '../host/crontab.js';
import type { ReadResult } from '../host/host.js';
import { parseIniFile } from '../host/ini-file.js';
import { distinctHomes, firstLines, followLink, hostUsers, listDir, looksBinary, readEntry, readFacts, type DirEntry } from '../host/listing.js';
import { parsePostTransactionActions } from '../host/post-transaction-action.js';
import { isUdevExecKey, parseUdevRules } from '../host/udev-rules.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';

const KINDS = ['xdg-autostart', 'motd', 'apt-hook', 'dnf-plugin', 'dnf-plugin-code', 'dnf-action', 'udev'] as const;

const Row = z.object({
  kind: z
    .enum(KINDS)
    .describe('xdg-autostart: a .desktop file run at graphical login; motd: an /etc/update-motd.d script (run as root at every SSH login on Ubuntu/Debian with pam_motd); apt-hook: an APT setting that runs a command (Pre-/Post-Invoke, Pre-Install-Pkgs) or replaces a program (Dir::Bin), or an #include; dnf-plugin: a yum/dnf plugin\'s configuration; dnf-plugin-code: a plugin\'s Python file; dnf-action: a post-transaction action line; udev: a RUN/PROGRAM/IMPORT{program} key of a udev rule'),
  owner: z.string().nullable().describe('xdg-autostart: the user whose ~/.config/autostart holds it; null for system-wide files'),
  path: z.string().describe('path of the file on the examined host'),
  pathBase64: z.string().nullable().describe('exact bytes of the path in base64, only when it is not valid UTF-8'),
  fileType: z.string().describe('what the directory entry itself is: file, symlink, fifo…'),
  linkTarget: z.string().nullable().describe('for a symlink: what it points to, exactly as stored'),
  linkFinal: z.string().nullable().describe('for a symlink: the host path the chain of links ends at (/dev/null masks a udev rule)'),
  linkExists: z.boolean().nullable().describe('for a symlink: whether that final path exists'),
  sha256: z.string().nullable().describe('SHA-256 of the file'),
  size: z.number().int().nullable().describe('size in bytes'),
  mtime: z.string().nullable().describe('modification time (UTC)'),
  fileUid: z.number().int().nullable().describe('numeric owner'),
  fileMode: z.string().nullable().describe('permission bits in octal'),
  executable: z.boolean().nullable().describe('motd, dnf-plugin-code: whether an execute bit is set (run-parts skips files that are not)'),
  runPartsName: z.boolean().nullable().describe('motd: whether run-parts accepts the name (letters, digits, _ and - only)'),
  effective: z
    .boolean()
    .nullable()
    .describe('xdg-autostart: not overridden by a file of the same name in the user\'s own autostart directory; udev: the file of this name udev reads (/etc overrides /run, which overrides /usr/lib)'),
  line: z.number().int().nullable().describe('1-based line of the setting'),
  key: z.string().nullable().describe('the setting: Exec, DPkg::Post-Invoke, RUN{program}, PROGRAM, enabled, or PATTERN:STATE for a dnf action'),
  command: z.string().nullable().describe('the command (or value) exactly as written'),
  program: z.string().nullable().describe('the first word of the command: the program it runs'),
  raw: z.string().nullable().describe('udev, dnf-action: the whole rule or line as written'),
  name: z.string().nullable().describe('xdg-autostart: Name=; dnf-plugin: the plugin\'s name'),
  enabled: z
    .boolean()
    .nullable()
    .describe('xdg-autostart: false when Hidden=true or X-GNOME-Autostart-enabled=false; dnf-plugin: its enabled= setting'),
  onlyShowIn: z.string().nullable().describe('xdg-autostart: OnlyShowIn= (desktops it runs in)'),
  firstLines: z.string().nullable().describe('motd, dnf-plugin-code: the first lines as text'),
});
type AsRow = z.infer<typeof Row>;

function blank(kind: AsRow['kind'], e: { path: string; pathBase64: string | null; type: string }): AsRow {
  return {
    kind, owner: null, path: e.path, pathBase64: e.pathBase64, fileType: e.type, linkTarget: null, linkFinal: null, linkExists: null, sha256: null,
    size: null, mtime: null, fileUid: null, fileMode: null, executable: null, runPartsName: null, effective: null, line: null, key: null,
    command: null, program: null, raw: null, name: null, enabled: null, onlyShowIn: null, firstLines: null,
  };
}

/** The program a shell command line starts with: its first word, quotes removed, leading VAR=value assignments skipped. */
export function programOf(command: string): string | null {
  const words = command.trim().match(/"[^"]*"|'[^']*'|\S+/g) ?? [];
  for (const w of words) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) continue;
    return w.replace(/^["']|["']$/g, '');
  }
  return null;
}

const MAX_BYTES = 16 * 1024 * 1024;

/** Link facts, then a read when the entry is (or leads to) a regular file; other kinds are recorded, never opened. */
async function readListed(ctx: CollectorContext, row: AsRow, e: DirEntry): Promise<ReadResult | null> {
  let type: string | null = e.type;
  if (e.type === 'symlink') {
    const link = await followLink(ctx.host, e.path);
    type = null;
    if (link) {
      row.linkTarget = encodeHostPath(Buffer.from(link.target)).text;
      row.linkFinal = link.finalPath;
      row.linkExists = link.exists;
      if (link.loop) ctx.error(e.path, 'ELOOP', 'symbolic link loop');
      type = link.exists ? link.finalType : null;
    }
  }
  let read: ReadResult | null = null;
  if (type === 'file') read = await readEntry(ctx, e, { maxBytes: MAX_BYTES });
  else if (type !== null && type !== 'dir' && !(type === 'char-device' && row.linkFinal === '/dev/null')) ctx.error(e.path, 'ENOTREG', `a ${type} where a file was expected; not opened`);
  if (read) {
    const f = readFacts(read);
    Object.assign(row, { sha256: f.sha256, size: f.size, mtime: f.mtime, fileUid: f.uid, fileMode: f.mode });
  } else if (e.stat) {
    Object.assign(row, { size: e.stat.size, mtime: e.stat.mtime.toISOString(), fileUid: e.stat.uid, fileMode: (e.stat.mode & 0o7777).toString(8).padStart(4, '0') });
  }
  return read;
}

async function* xdgRows(ctx: CollectorContext): AsyncGenerator<AsRow> {
  const system = ((await listDir(ctx, '/etc/xdg/autostart')) ?? []).map((e) => ({ e, owner: null as string | null }));
  const personal: { e: DirEntry; owner: string | null }[] = [];
  for (const u of distinctHomes(await hostUsers(ctx))) {
    for (const e of (await listDir(ctx, `${u.home === '/' ? '' : u.home}/.config/autostart`)) ?? []) personal.push({ e, owner: u.name });
  }
  const overridden = new Set(personal.map((p) => p.e.name));
  for (const { e, owner } of [...system, ...personal]) {
    if (ctx.signal.aborted) return;
    if (e.type === 'dir' || !e.name.endsWith('.desktop')) continue;
    const row = blank('xdg-autostart', e);
    row.owner = owner;
    row.effective = owner !== null || !overridden.has(e.name);
    const read = await readListed(ctx, row, e);
    if (read) {
      const entry = parseIniFile(read.data.toString('utf8')).groups['Desktop Entry'] ?? {};
      const exec = entry.Exec;
      row.line = exec?.line ?? null;
      row.key = exec ? 'Exec' : null;
      row.command = exec?.value ?? null;
      row.program = exec ? programOf(exec.value) : null;
      row.name = entry.Name?.value ?? null;
      row.onlyShowIn = entry.OnlyShowIn?.value ?? null;
      row.enabled = !(entry.Hidden?.value.toLowerCase() === 'true' || entry['X-GNOME-Autostart-enabled']?.value.toLowerCase() === 'false');
    }
    yield row;
  }
}

async function* motdRows(ctx: CollectorContext): AsyncGenerator<AsRow> {
  for (const e of (await listDir(ctx, '/etc/update-motd.d')) ?? []) {
    if (ctx.signal.aborted) return;
    if (e.type === 'dir') continue;
    const row = blank('motd', e);
    row.runPartsName = runPartsName(e.name);
    const read = await readListed(ctx, row, e);
    const mode = read?.facts.mode ?? e.stat?.mode;
    row.executable = mode === undefined ? null : (mode & 0o111) !== 0;
    if (read && !looksBinary(read.data)) row.firstLines = firstLines(read.data);
    yield row;
  }
}

async function* aptRows(ctx: CollectorContext): AsyncGenerator<AsRow> {
  const entries: DirEntry[] = [];
  try {
    const st = await ctx.host.lstat('/etc/apt/apt.conf');
    entries.push({ name: 'apt.conf', nameBase64: null, path: '/etc/apt/apt.conf', pathBase64: null, type: st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'unknown', stat: st, realPath: Buffer.from('') });
  } catch {
    // absent
  }
  entries.push(...((await listDir(ctx, '/etc/apt/apt.conf.d')) ?? []));
  for (const e of entries) {
    if (ctx.signal.aborted) return;
    if (e.type === 'dir') continue;
    const file = blank('apt-hook', e);
    const read = await readListed(ctx, file, e);
    if (!read) continue;
    const { assignments, unterminatedString } = parseAptConf(read.data.toString('utf8'));
    if (unterminatedString !== null) ctx.error(e.path, 'EPARSE', `unterminated string at line ${unterminatedString}; APT rejects the file`);
    for (const a of assignments) {
      if (!isAptHookKey(a.key)) continue;
      yield { ...file, line: a.line, key: a.key, command: a.value, program: a.key.startsWith('#') ? null : programOf(a.value) };
    }
  }
}

async function* dnfRows(ctx: CollectorContext): AsyncGenerator<AsRow> {
  for (const dir of ['/etc/yum/pluginconf.d', '/etc/dnf/plugins']) {
    for (const e of (await listDir(ctx, dir)) ?? []) {
      if (e.type === 'dir' || !e.name.endsWith('.conf')) continue;
      const row = blank('dnf-plugin', e);
      row.name = e.name.slice(0, -5);
      const read = await readListed(ctx, row, e);
      if (read) {
        const enabled = parseIniFile(read.data.toString('utf8')).groups.main?.enabled;
        if (enabled) {
          row.line = enabled.line;
          row.key = 'enabled';
          row.command = enabled.value;
          row.enabled = /^(1|true|yes|on)$/i.test(enabled.value);
        }
      }
      yield row;
    }
  }
  for (const dir of ['/etc/dnf/plugins/post-transaction-actions.d', '/etc/yum/post-actions']) {
    for (const e of (await listDir(ctx, dir)) ?? []) {
      if (e.type === 'dir') continue;
      const file = blank('dnf-action', e);
      const read = await readListed(ctx, file, e);
      if (!read) {
        yield file;
        continue;
      }
      for (const a of parsePostTransactionActions(read.data.toString('utf8')).actions) {
        yield { ...file, line: a.line, key: `${a.pattern}:${a.state}`, command: a.command, program: programOf(a.command), raw: a.raw };
      }
    }
  }
  // plugin code: yum's plugin directory and dnf's python packages
  const codeDirs = ['/usr/lib/yum-plugins', '/usr/share/yum-plugins'];
  for (const lib of ['/usr/lib', '/usr/lib64']) {
    for (const e of (await listDir(ctx, lib)) ?? []) {
      if (/^python3(\.\d+)?$/.test(e.name)) codeDirs.push(`${lib}/${e.name}/site-packages/dnf-plugins`);
    }
  }
  for (const dir of codeDirs) {
    for (const e of (await listDir(ctx, dir)) ?? []) {
      if (e.type === 'dir' || !e.name.endsWith('.py')) continue;
      const row = blank('dnf-plugin-code', e);
      row.name = e.name.slice(0, -3);
      const read = await readListed(ctx, row, e);
      const mode = read?.facts.mode ?? e.stat?.mode;
      row.executable = mode === undefined ? null : (mode & 0o111) !== 0;
      if (read && !looksBinary(read.data)) row.firstLines = firstLines(read.data);
      yield row;
    }
  }
}

/** udev's rules directories, highest precedence first: a file name in an earlier directory hides the same name later. */
const UDEV_DIRS = ['/etc/udev/rules.d', '/run/udev/rules.d', '/usr/local/lib/udev/rules.d', '/usr/lib/udev/rules.d', '/lib/udev/rules.d'];

async function* udevRows(ctx: CollectorContext): AsyncGenerator<AsRow> {
  const seenNames = new Set<string>();
  const seenDirs = new Set<string>();
  for (const dir of UDEV_DIRS) {
    let real: string;
    try {
      real = await fsp.realpath(await ctx.host.resolve(dir));
    } catch {
      continue;
    }
    if (seenDirs.has(real)) continue;
    seenDirs.add(real);
    for (const e of (await listDir(ctx, dir)) ?? []) {
      if (ctx.signal.aborted) return;
      if (e.type === 'dir' || !e.name.endsWith('.rules')) continue;
      const effective = !seenNames.has(e.name);
      seenNames.add(e.name);
      const file = blank('udev', e);
      file.effective = effective;
      const read = await readListed(ctx, file, e);
      if (!read) {
        yield file; // unreadable, masked (/dev/null) or not a file: still on record
        continue;
      }
      for (const rule of parseUdevRules(read.data.toString('utf8'))) {
        for (const k of rule.keys) {
          if (!isUdevExecKey(k)) continue;
          yield { ...file, line: rule.line, key: k.attr === null ? k.key : `${k.key}{${k.attr}}`, command: k.value, program: k.attr === 'builtin' ? null : programOf(k.value), raw: rule.raw };
        }
      }
    }
  }
}

export const autostartCollector = defineCollector({
  name: 'autostart',
  title: 'Autostart entries, motd scripts, package-manager hooks and udev rules',
  description:
    'Programs run by something other than cron or systemd: XDG autostart entries (system-wide and each user\'s ' +
    '~/.config/autostart) with their Exec= line; /etc/update-motd.d scripts (run as root at every login on Debian and ' +
    'Ubuntu); APT hooks (APT::Update::Pre-Invoke/Post-Invoke, DPkg::Pre-Invoke/Post-Invoke, DPkg::Pre-Install-Pkgs, ' +
    'Dir::Bin overrides, #include) from /etc/apt/apt.conf and apt.conf.d; yum/dnf plugins, their code and ' +
    'post-transaction actions; and every RUN, PROGRAM and IMPORT{program} key of udev rules. Look for commands that ' +
    'fetch or run code from /tmp, /dev/shm or the network, hooks in files no package owns, motd scripts changed ' +
    'recently, and udev rules in /etc that run programs. Raw copies of every file read are kept.',
  preconditions: 'Any host, live or --root. Root is needed for other users\' home directories.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    yield* xdgRows(ctx);
    yield* motdRows(ctx);
    yield* aptRows(ctx);
    yield* dnfRows(ctx);
    yield* udevRows(ctx);
  },
});
