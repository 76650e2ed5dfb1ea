import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { z } from 'zod';
import type { ReadResult } from '../host/host.js';
import { firstLines, followLink, hostUsers, listDir, looksBinary, mapPool, readEntry, readFacts, type DirEntry, type LinkFacts } from '../host/listing.js';
import { EXEC_KEYS, dropInDirNames, mergeUnitFiles, parseExecValue, parseUnitFile, templateOf, unitType, type UnitFileParse } from '../host/unit-file.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';

const ROLES = ['control', 'transient', 'generated', 'admin', 'attached', 'runtime', 'vendor', 'home', 'link-target', 'generator'] as const;
type Role = (typeof ROLES)[number];

const Row = z.object({
  kind: z
    .enum(['unit', 'drop-in', 'exec', 'link', 'generator'])
    .describe('unit: a unit file; drop-in: a *.d/*.conf override; exec: one command of an Exec*= setting; link: an entry of a .wants/.requires/.upholds directory (what enables a unit); generator: a program systemd runs at boot to write units'),
  scope: z.enum(['system', 'user']).describe('system manager (PID 1) or a user manager'),
  owner: z.string().nullable().describe('the user whose own directories (home, /run/user/UID) hold it; null for system-wide directories'),
  unit: z.string().nullable().describe('unit name (drop-in: the unit, template or prefix it applies to, e.g. "service" for service.d)'),
  path: z.string().describe('path of the file or link on the examined host'),
  pathBase64: z.string().nullable().describe('exact bytes of the path in base64, only when it is not valid UTF-8'),
  dir: z.string().nullable().describe('the search directory it was found in'),
  dirRole: z
    .enum(ROLES)
    .describe('what that directory is: admin (/etc), runtime (/run), vendor (/usr/lib, /lib), transient (made through the D-Bus API, e.g. systemd-run), generated (written by generators at boot), control, attached (portable services), home (a user\'s own), link-target (reached only through a link), generator (a generator directory)'),
  fileType: z.string().describe('what the directory entry itself is: file, symlink, dir…'),
  linkTarget: z.string().nullable().describe('for a symlink: what it points to, exactly as stored'),
  linkFinal: z.string().nullable().describe('for a symlink: the host path the chain of links ends at (/dev/null means masked)'),
  linkExists: z.boolean().nullable().describe('for a symlink: whether the final path exists (false for dangling links and loops)'),
  linkInUnitDir: z.boolean().nullable().describe('for a symlink: whether the final path lies in one of systemd\'s unit directories (false for /dev/shm, /tmp, home directories…)'),
  sha256: z.string().nullable().describe('SHA-256 of the file (of the link\'s target for links); null when not read'),
  size: z.number().int().nullable().describe('file size in bytes'),
  mtime: z.string().nullable().describe('file modification time (UTC)'),
  fileUid: z.number().int().nullable().describe('numeric owner of the file'),
  fileMode: z.string().nullable().describe('permission bits in octal'),
  effective: z.boolean().nullable().describe('unit: this is the file systemd loads for the name; false when a file of the same name in an earlier directory shadows it'),
  shadowedBy: z.string().nullable().describe('unit: the file that shadows this one'),
  masked: z.boolean().nullable().describe('unit: masked (a link to /dev/null or an empty file)'),
  dropIns: z.array(z.string()).nullable().describe('unit: drop-in files applied to it, in the order systemd applies them'),
  enabledBy: z.array(z.string()).nullable().describe('unit: links in .wants/.requires/.upholds directories that name this unit or its template (empty: not enabled that way)'),
  description: z.string().nullable().describe('unit: Description= in effect'),
  settings: z
    .record(z.string(), z.record(z.string(), z.array(z.string())))
    .nullable()
    .describe('unit: every setting in effect after drop-ins (section → key → values; an empty assignment clears earlier ones); drop-in: its own settings'),
  badLines: z.array(z.number().int()).nullable().describe('unit, drop-in: lines systemd would ignore (no "=", outside a section)'),
  section: z.string().nullable().describe('exec: section of the setting ([Service], [Socket]…)'),
  key: z.string().nullable().describe('exec: ExecStart, ExecStartPre, ExecStop…'),
  line: z.number().int().nullable().describe('exec: 1-based line in `path` where the setting starts'),
  value: z.string().nullable().describe('exec: the setting\'s whole value as written (continuations joined)'),
  commandIndex: z.number().int().nullable().describe('exec: which command of the value (several are separated by " ; ")'),
  command: z.string().nullable().describe('exec: this command\'s raw text'),
  prefixes: z.string().nullable().describe('exec: prefix characters (- ignore failure, @ argv[0] follows, + ! !! privileges, : no expansion)'),
  program: z.string().nullable().describe('exec: the program path, quotes and escapes undone'),
  args: z.array(z.string()).nullable().describe('exec: the arguments'),
  active: z
    .boolean()
    .nullable()
    .describe('exec: in effect for a loaded unit (false when reset by a later empty assignment, overridden, or the file is shadowed or masked); null for a unit reached only through a link, since systemd loads units by name from its search path'),
  wantedBy: z.string().nullable().describe('link: the unit whose .wants/.requires/.upholds directory holds the link'),
  relation: z.enum(['wants', 'requires', 'upholds']).nullable().describe('link: which kind of dependency directory'),
  firstLine: z.string().nullable().describe('generator: first line (the interpreter of a script; null for binaries)'),
  executable: z.boolean().nullable().describe('generator: whether an execute bit is set'),
});
type SdRow = z.infer<typeof Row>;

function blank(kind: SdRow['kind'], scope: SdRow['scope'], owner: string | null, p: string, pBase64: string | null, dir: string | null, role: Role): SdRow {
  return {
    kind, scope, owner, unit: null, path: p, pathBase64: pBase64, dir, dirRole: role, fileType: 'file', linkTarget: null, linkFinal: null, linkExists: null,
    linkInUnitDir: null, sha256: null, size: null, mtime: null, fileUid: null, fileMode: null, effective: null, shadowedBy: null, masked: null,
    dropIns: null, enabledBy: null, description: null, settings: null, badLines: null, section: null, key: null, line: null, value: null,
    commandIndex: null, command: null, prefixes: null, program: null, args: null, active: null, wantedBy: null, relation: null, firstLine: null, executable: null,
  };
}

interface SearchDir {
  dir: string;
  role: Role;
}

/** Unit search path of the system manager, highest precedence first (systemd.unit(5)). */
const SYSTEM_DIRS: SearchDir[] = [
  { dir: '/etc/systemd/system.control', role: 'control' },
  { dir: '/run/systemd/system.control', role: 'control' },
  { dir: '/run/systemd/transient', role: 'transient' },
  { dir: '/run/systemd/generator.early', role: 'generated' },
  { dir: '/etc/systemd/system', role: 'admin' },
  { dir: '/etc/systemd/system.attached', role: 'attached' },
  { dir: '/run/systemd/system', role: 'runtime' },
  { dir: '/run/systemd/system.attached', role: 'attached' },
  { dir: '/run/systemd/generator', role: 'generated' },
  { dir: '/usr/local/lib/systemd/system', role: 'vendor' },
  { dir: '/usr/lib/systemd/system', role: 'vendor' },
  { dir: '/lib/systemd/system', role: 'vendor' },
  { dir: '/run/systemd/generator.late', role: 'generated' },
];

/** Unit search path of a user manager; HOME and UID are filled in per user, null entries are the global directories. */
function userDirs(home: string | null, uid: number | null): SearchDir[] {
  const run = uid === null ? null : `/run/user/${uid}/systemd`;
  const mine = (d: string | null, role: Role): SearchDir[] => (d === null ? [] : [{ dir: d, role }]);
  return [
    ...mine(home && path.posix.join(home, '.config/systemd/user.control'), 'control'),
    ...mine(run && `${run}/user.control`, 'control'),
    ...mine(run && `${run}/transient`, 'transient'),
    ...mine(run && `${run}/generator.early`, 'generated'),
    ...mine(home && path.posix.join(home, '.config/systemd/user'), 'home'),
    { dir: '/etc/systemd/user', role: 'admin' },
    ...mine(run && `${run}/user`, 'runtime'),
    { dir: '/run/systemd/user', role: 'runtime' },
    ...mine(run && `${run}/generator`, 'generated'),
    ...mine(home && path.posix.join(home, '.local/share/systemd/user'), 'home'),
    { dir: '/usr/local/share/systemd/user', role: 'vendor' },
    { dir: '/usr/share/systemd/user', role: 'vendor' },
    { dir: '/usr/local/lib/systemd/user', role: 'vendor' },
    { dir: '/usr/lib/systemd/user', role: 'vendor' },
    { dir: '/lib/systemd/user', role: 'vendor' },
    ...mine(run && `${run}/generator.late`, 'generated'),
  ];
}

const GENERATOR_DIRS: { dir: string; scope: SdRow['scope'] }[] = [
  { dir: '/etc/systemd/system-generators', scope: 'system' },
  { dir: '/run/systemd/system-generators', scope: 'system' },
  { dir: '/usr/local/lib/systemd/system-generators', scope: 'system' },
  { dir: '/usr/lib/systemd/system-generators', scope: 'system' },
  { dir: '/lib/systemd/system-generators', scope: 'system' },
  { dir: '/etc/systemd/user-generators', scope: 'user' },
  { dir: '/run/systemd/user-generators', scope: 'user' },
  { dir: '/usr/local/lib/systemd/user-generators', scope: 'user' },
  { dir: '/usr/lib/systemd/user-generators', scope: 'user' },
  { dir: '/lib/systemd/user-generators', scope: 'user' },
];

const LINK_DIR = /^(.+)\.(wants|requires|upholds)$/;

/** A file systemd reads (unit file or drop-in), with what was read of it. */
interface UnitFile {
  entry: DirEntry;
  dir: string;
  role: Role;
  link: LinkFacts | null;
  read: ReadResult | null;
  parsed: UnitFileParse | null;
  masked: boolean;
}

interface DropIn extends UnitFile {
  /** The .d directory's name without '.d' (unit, template, prefix or type). */
  appliesTo: string;
  conf: string;
}

interface LinkEntry {
  entry: DirEntry;
  dir: string;
  role: Role;
  wantedBy: string;
  relation: 'wants' | 'requires' | 'upholds';
  link: LinkFacts | null;
}

/** Everything found in one directory of a search path. */
interface Listing {
  units: Map<string, UnitFile>;
  dropIns: DropIn[];
  links: LinkEntry[];
}

/** A manager's view: its search path, with the listing of each directory. */
interface Manager {
  scope: SdRow['scope'];
  owner: string | null;
  dirs: (SearchDir & { listing: Listing | null; report: boolean })[];
}

const MAX_UNIT_BYTES = 4 * 1024 * 1024;

async function realKey(ctx: CollectorContext, dir: string): Promise<string | null> {
  try {
    return await fsp.realpath(await ctx.host.resolve(dir));
  } catch {
    return null;
  }
}

async function readUnit(ctx: CollectorContext, entry: DirEntry, dir: string, role: Role): Promise<UnitFile> {
  const f: UnitFile = { entry, dir, role, link: null, read: null, parsed: null, masked: false };
  if (entry.type === 'symlink') {
    f.link = await followLink(ctx.host, entry.path);
    if (f.link?.loop) ctx.error(entry.path, 'ELOOP', 'symbolic link loop');
    if (f.link && f.link.finalPath === '/dev/null') f.masked = true;
    if (!f.link || f.link.finalType !== 'file') return f;
  } else if (entry.type !== 'file') {
    if (entry.type !== 'dir') ctx.error(entry.path, 'ENOTREG', `a ${entry.type} where a unit file was expected; not opened`);
    return f;
  }
  f.read = await readEntry(ctx, entry, { maxBytes: MAX_UNIT_BYTES });
  if (f.read) {
    f.parsed = parseUnitFile(f.read.data.toString('utf8'));
    if (f.read.data.length === 0) f.masked = true;
  }
  return f;
}

async function listSearchDir(ctx: CollectorContext, sd: SearchDir): Promise<Listing | null> {
  const entries = await listDir(ctx, sd.dir);
  if (!entries) return null;
  const listing: Listing = { units: new Map(), dropIns: [], links: [] };
  const unitEntries: DirEntry[] = [];
  const dropInTasks: { e: DirEntry; appliesTo: string }[] = [];
  const subdirs: { e: DirEntry; kind: 'drop-in' | 'links'; m: RegExpMatchArray | null }[] = [];
  for (const e of entries) {
    const isDirLike = e.type === 'dir' || e.type === 'symlink';
    const lm = e.name.match(LINK_DIR);
    if (e.name.endsWith('.d') && isDirLike) subdirs.push({ e, kind: 'drop-in', m: null });
    else if (lm && isDirLike) subdirs.push({ e, kind: 'links', m: lm });
    else if (unitType(e.name)) unitEntries.push(e);
  }
  await mapPool(subdirs, 4, async ({ e, kind, m }) => {
    const inner = (await listDir(ctx, e.path)) ?? [];
    if (kind === 'drop-in') {
      for (const c of inner) if (c.name.endsWith('.conf')) dropInTasks.push({ e: c, appliesTo: e.name.slice(0, -2) });
      return;
    }
    const links = await mapPool(inner, 8, async (c) => ({ entry: c, dir: sd.dir, role: sd.role, wantedBy: m![1]!, relation: m![2] as LinkEntry['relation'], link: c.type === 'symlink' ? await followLink(ctx.host, c.path) : null }));
    listing.links.push(...links);
  });
  // keep a stable order whatever finished first
  listing.links.sort((a, b) => (a.entry.path < b.entry.path ? -1 : a.entry.path > b.entry.path ? 1 : 0));
  dropInTasks.sort((a, b) => (a.e.path < b.e.path ? -1 : a.e.path > b.e.path ? 1 : 0));
  const units = await mapPool(unitEntries, 8, (e) => readUnit(ctx, e, sd.dir, sd.role));
  for (const u of units) listing.units.set(u.entry.name, u);
  const drops = await mapPool(dropInTasks, 8, async (t) => ({ ...(await readUnit(ctx, t.e, sd.dir, sd.role)), appliesTo: t.appliesTo, conf: t.e.name }));
  listing.dropIns.push(...drops);
  return listing;
}

function fileCols(row: SdRow, f: UnitFile, unitDirs: Set<string>): void {
  row.fileType = f.entry.type;
  if (f.link) {
    row.linkTarget = encodeHostPath(Buffer.from(f.link.target)).text;
    row.linkFinal = f.link.finalPath;
    row.linkExists = f.link.exists;
    row.linkInUnitDir = unitDirs.has(path.posix.dirname(f.link.finalPath));
  }
  if (f.read) {
    const facts = readFacts(f.read);
    Object.assign(row, { sha256: facts.sha256, size: facts.size, mtime: facts.mtime, fileUid: facts.uid, fileMode: facts.mode });
  } else if (f.entry.stat) {
    const st = f.entry.stat;
    Object.assign(row, { size: st.size, mtime: st.mtime.toISOString(), fileUid: st.uid, fileMode: (st.mode & 0o7777).toString(8).padStart(4, '0') });
  }
  if (f.parsed) row.badLines = f.parsed.badLines;
}

/** Drop-ins that apply to a unit name, deduplicated by file name (earlier directory wins), in application order. */
function dropInsFor(unit: string, mgr: Manager): DropIn[] {
  const names = dropInDirNames(unit).map((n) => n.slice(0, -2));
  const byConf = new Map<string, DropIn>();
  for (const d of mgr.dirs) {
    for (const appliesTo of [...names].reverse()) {
      for (const di of d.listing?.dropIns ?? []) if (di.appliesTo === appliesTo && !byConf.has(di.conf)) byConf.set(di.conf, di);
    }
  }
  return [...byConf.values()].sort((a, b) => (a.conf < b.conf ? -1 : a.conf > b.conf ? 1 : 0));
}

function execRows(base: SdRow, parsed: UnitFileParse, activeOf: (line: number, key: string) => boolean | null): SdRow[] {
  const rows: SdRow[] = [];
  for (const a of parsed.assignments) {
    if (!EXEC_KEYS.has(a.key) || a.value === '') continue;
    parseExecValue(a.value).forEach((cmd, i) => {
      rows.push({
        ...base, kind: 'exec', section: a.section, key: a.key, line: a.line, value: a.value, commandIndex: i, command: cmd.raw,
        prefixes: cmd.prefixes, program: cmd.program, args: cmd.args, active: activeOf(a.line, a.key),
      });
    });
  }
  return rows;
}

export const systemdCollector = defineCollector({
  name: 'systemd',
  title: 'systemd units, timers, drop-ins, links and generators',
  description:
    'Every unit file in the system and user search paths (/etc, /run, /usr/lib, /lib, transient and generated units, ' +
    'each user\'s ~/.config/systemd/user), every drop-in (*.d/*.conf), every link in .wants/.requires/.upholds directories ' +
    '(what enables a unit) with where it points, and every generator. Unit rows carry the settings in effect after ' +
    'drop-ins; exec rows give each ExecStart/ExecStartPre/ExecStop… command with the program split out and whether it is ' +
    'in effect (an empty "ExecStart=" in a drop-in replaces the unit\'s own). Look for units in /etc or home directories ' +
    'running programs from /tmp, /dev/shm or home directories, drop-ins that replace ExecStart of a common service, ' +
    'links into /dev/shm or /tmp, dangling links, transient units (systemd-run) and generators outside /usr/lib. Raw ' +
    'copies of every unit, drop-in and generator read are kept.',
  preconditions: 'Any host, live or --root; /run (transient and generated units, per-user runtime units) exists only on a live host.',
  timeoutMs: 60_000,
  row: Row,
  async *collect(ctx) {
    // every account with its own home and /run/user/UID (directories shared by several are listed once)
    const seenUsers = new Set<string>();
    const users = (await hostUsers(ctx)).filter((u) => {
      const id = `${path.posix.normalize(u.home)}\u0000${u.uid}`;
      if (!u.home.startsWith('/') || seenUsers.has(id)) return false;
      seenUsers.add(id);
      return true;
    });
    const managers: Manager[] = [{ scope: 'system', owner: null, dirs: SYSTEM_DIRS.map((d) => ({ ...d, listing: null, report: false })) }];
    managers.push({ scope: 'user', owner: null, dirs: userDirs(null, null).map((d) => ({ ...d, listing: null, report: false })) });
    // Only homes that exist and /run/user/UID directories that exist are searched, so a passwd with
    // thousands of accounts costs one lstat each rather than a dozen failed lookups.
    const runUids = new Set(((await listDir(ctx, '/run/user')) ?? []).map((e) => e.name));
    const homeExists = await mapPool(users, 16, async (u) => {
      try {
        return (await ctx.host.lstat(u.home)) !== null;
      } catch {
        return false;
      }
    });
    users.forEach((u, i) => {
      const home = homeExists[i] ? u.home : null;
      const uid = runUids.has(String(u.uid)) ? u.uid : null;
      if (home === null && uid === null) return;
      managers.push({ scope: 'user', owner: u.name, dirs: userDirs(home, uid).map((d) => ({ ...d, listing: null, report: false })) });
    });

    // List every directory once (/lib is /usr/lib on merged-/usr systems; homes may be shared); the first
    // manager and path a directory is found under reports its rows, every manager uses its listing.
    const listings = new Map<string, Promise<Listing | null>>();
    const unitDirs = new Set<string>();
    const allDirs = managers.flatMap((m) => m.dirs);
    const keys = new Map<string, string | null>();
    for (const d of allDirs) unitDirs.add(d.dir);
    await mapPool([...unitDirs], 8, async (dir) => keys.set(dir, await realKey(ctx, dir)));
    for (const d of allDirs) {
      const key = keys.get(d.dir) ?? null;
      if (key === null) continue;
      d.report = !listings.has(key);
      if (d.report) listings.set(key, listSearchDir(ctx, d));
    }
    await mapPool(allDirs, 4, async (d) => {
      const key = keys.get(d.dir) ?? null;
      if (key !== null) d.listing = await listings.get(key)!;
    });
    if (ctx.signal.aborted) return;

    const linkTargets: { target: string; mgr: Manager }[] = [];
    const emittedLinkTargets = new Set<string>();
    for (const mgr of managers) {
      const own = (d: { report: boolean }) => d.report;
      const seen = new Map<string, UnitFile>();
      // which assignments are in effect, across every effective unit (a type-wide drop-in applies to many)
      const activeKeys = new Set<string>();
      const unitRows: { row: SdRow; file: UnitFile }[] = [];
      // link name → link paths, and template → links to its instances (getty@tty1.service enables getty@.service)
      const enabledBy = new Map<string, string[]>();
      const instancesOf = new Map<string, string[]>();
      // /lib/systemd/system and /usr/lib/systemd/system share one listing on merged-/usr systems: count its links once
      const counted = new Set<Listing>();
      for (const d of mgr.dirs) {
        if (!d.listing || counted.has(d.listing)) continue;
        counted.add(d.listing);
        for (const l of d.listing.links) {
          const list = enabledBy.get(l.entry.name) ?? [];
          list.push(l.entry.path);
          enabledBy.set(l.entry.name, list);
          const tmpl = templateOf(l.entry.name);
          if (tmpl) instancesOf.set(tmpl, [...(instancesOf.get(tmpl) ?? []), l.entry.path]);
        }
      }
      for (const d of mgr.dirs) {
        if (!d.listing) continue;
        for (const [name, f] of d.listing.units) {
          const shadow = seen.get(name);
          if (!shadow) seen.set(name, f);
          if (!own(d)) continue;
          const drops = dropInsFor(name, mgr);
          const files = [f.parsed ?? { assignments: [], sections: [], badLines: [] }, ...drops.map((x) => x.parsed ?? { assignments: [], sections: [], badLines: [] })];
          const merged = mergeUnitFiles(files);
          const effective = !shadow;
          if (effective && !f.masked) {
            for (const a of merged.applied) {
              if (!a.active) continue;
              const src = a.file === 0 ? f : drops[a.file - 1]!;
              activeKeys.add(`${src.entry.path}\u0000${a.line}\u0000${a.key}`);
            }
          }
          const row = blank('unit', mgr.scope, mgr.owner, f.entry.path, f.entry.pathBase64, d.dir, d.role);
          row.unit = name;
          fileCols(row, f, unitDirs);
          row.effective = effective;
          row.shadowedBy = shadow ? shadow.entry.path : null;
          row.masked = f.masked;
          row.dropIns = drops.map((x) => x.entry.path);
          row.enabledBy = [...(enabledBy.get(name) ?? []), ...(instancesOf.get(name) ?? [])];
          row.settings = f.parsed ? merged.settings : null;
          row.description = merged.settings.Unit?.Description?.at(-1) ?? null;
          unitRows.push({ row, file: f });
        }
      }
      for (const { row, file } of unitRows) {
        yield row;
        if (file.parsed) {
          for (const r of execRows({ ...row, settings: null, dropIns: null, enabledBy: null }, file.parsed, (line, key) => activeKeys.has(`${file.entry.path}\u0000${line}\u0000${key}`))) yield r;
        }
      }
      for (const d of mgr.dirs) {
        if (!d.listing || !own(d)) continue;
        for (const di of d.listing.dropIns) {
          const row = blank('drop-in', mgr.scope, mgr.owner, di.entry.path, di.entry.pathBase64, d.dir, d.role);
          row.unit = di.appliesTo;
          fileCols(row, di, unitDirs);
          row.settings = di.parsed ? mergeUnitFiles([di.parsed]).settings : null;
          yield row;
          if (di.parsed) {
            for (const r of execRows({ ...row, settings: null }, di.parsed, (line, key) => activeKeys.has(`${di.entry.path}\u0000${line}\u0000${key}`))) yield r;
          }
        }
        for (const l of d.listing.links) {
          const row = blank('link', mgr.scope, mgr.owner, l.entry.path, l.entry.pathBase64, d.dir, d.role);
          row.unit = l.entry.name;
          row.fileType = l.entry.type;
          row.wantedBy = l.wantedBy;
          row.relation = l.relation;
          if (l.link) {
            row.linkTarget = encodeHostPath(Buffer.from(l.link.target)).text;
            row.linkFinal = l.link.finalPath;
            row.linkExists = l.link.exists;
            row.linkInUnitDir = unitDirs.has(path.posix.dirname(l.link.finalPath));
            if (l.link.loop) ctx.error(l.entry.path, 'ELOOP', 'symbolic link loop');
            if (l.link.exists && l.link.finalType === 'file' && !row.linkInUnitDir && !emittedLinkTargets.has(l.link.finalPath)) {
              emittedLinkTargets.add(l.link.finalPath);
              linkTargets.push({ target: l.link.finalPath, mgr });
            }
          }
          yield row;
        }
      }
      if (ctx.signal.aborted) return;
    }

    // Units reached only through a link (a .wants entry pointing into /dev/shm, /tmp, a home…): read and parse them too.
    for (const { target, mgr } of linkTargets) {
      const read = await ctx.read(target, { maxBytes: MAX_UNIT_BYTES });
      const row = blank('unit', mgr.scope, mgr.owner, target, null, path.posix.dirname(target), 'link-target');
      row.unit = path.posix.basename(target);
      if (read) {
        const parsed = parseUnitFile(read.data.toString('utf8'));
        const f: UnitFile = { entry: { name: row.unit, nameBase64: null, pathBase64: null, path: target, type: 'file', stat: null, realPath: Buffer.from(target) }, dir: row.dir!, role: 'link-target', link: null, read, parsed, masked: read.data.length === 0 };
        fileCols(row, f, unitDirs);
        row.settings = mergeUnitFiles([parsed]).settings;
        row.description = row.settings.Unit?.Description?.at(-1) ?? null;
        row.masked = f.masked;
        yield row;
        for (const r of execRows({ ...row, settings: null }, parsed, () => null)) yield r;
      } else {
        yield row;
      }
    }

    const generatorDirs = new Set<string>();
    for (const g of GENERATOR_DIRS) {
      const key = await realKey(ctx, g.dir);
      if (key === null || generatorDirs.has(key)) continue;
      generatorDirs.add(key);
      const entries = (await listDir(ctx, g.dir)) ?? [];
      const rows = await mapPool(entries, 4, async (e) => {
        const row = blank('generator', g.scope, null, e.path, e.pathBase64, g.dir, 'generator');
        row.unit = null;
        row.fileType = e.type;
        let read: ReadResult | null = null;
        if (e.type === 'symlink') {
          const link = await followLink(ctx.host, e.path);
          if (link) {
            row.linkTarget = encodeHostPath(Buffer.from(link.target)).text;
            row.linkFinal = link.finalPath;
            row.linkExists = link.exists;
            if (link.loop) ctx.error(e.path, 'ELOOP', 'symbolic link loop');
            if (link.finalType === 'file') read = await readEntry(ctx, e, { maxBytes: 64 * 1024 * 1024 });
          }
        } else if (e.type === 'file') {
          read = await readEntry(ctx, e, { maxBytes: 64 * 1024 * 1024 });
        } else if (e.type !== 'dir') {
          ctx.error(e.path, 'ENOTREG', `a ${e.type} in a generator directory; not opened`);
        }
        if (read) {
          const f = readFacts(read);
          Object.assign(row, { sha256: f.sha256, size: f.size, mtime: f.mtime, fileUid: f.uid, fileMode: f.mode });
          row.executable = (read.facts.mode & 0o111) !== 0;
          row.firstLine = looksBinary(read.data) ? null : firstLines(read.data, 1, 512);
        } else if (e.stat) {
          row.executable = (e.stat.mode & 0o111) !== 0;
        }
        return row;
      });
      for (const r of rows) yield r;
    }
  },
});
