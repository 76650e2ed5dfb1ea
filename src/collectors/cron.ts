import { z } from 'zod';
import { parseAtJob, parseAtJobName } from '../host/at-job.js';
import { parseAnacrontab, parseCrontab, runPartsName, type CronEnv, type CronLineFacts, type CrontabFlavor } from '../host/crontab.js';
import type { ReadResult } from '../host/host.js';
import { firstLines, followLink, hostUsers, listDir, looksBinary, readEntry, readFacts, type DirEntry } from '../host/listing.js';
import type { PasswdEntry } from '../host/passwd.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';

const LOCATIONS = ['crontab', 'cron.d', 'cron.hourly', 'cron.daily', 'cron.weekly', 'cron.monthly', 'cron.yearly', 'user-spool', 'anacrontab', 'anacron-spool', 'at-spool'] as const;
type Location = (typeof LOCATIONS)[number];

const Row = z.object({
  kind: z
    .enum(['file', 'job', 'env', 'script', 'at-job', 'anacron-stamp'])
    .describe('file: one crontab file (even when unreadable or empty); job: one schedule line; env: one VAR=value line; script: one file in /etc/cron.{hourly,daily,weekly,monthly}; at-job: one queued at job; anacron-stamp: a timestamp file of anacron'),
  location: z.enum(LOCATIONS).describe('which cron mechanism the file belongs to (crontab is /etc/crontab; user-spool is a per-user crontab)'),
  file: z.string().describe('path of the file on the examined host (invalid UTF-8 bytes as %XX)'),
  fileBase64: z.string().nullable().describe('exact bytes of the path in base64, only when it is not valid UTF-8'),
  fileType: z.string().describe('what the directory entry itself is: file, symlink, fifo, dir, socket…'),
  linkTarget: z.string().nullable().describe('for a symlink: what it points to, exactly as stored'),
  linkFinal: z.string().nullable().describe('for a symlink: the host path the chain of links ends at'),
  linkExists: z.boolean().nullable().describe('for a symlink: whether that final path exists (false for dangling links and loops)'),
  sha256: z.string().nullable().describe('SHA-256 of the file content; null when it could not be read'),
  size: z.number().int().nullable().describe('file size in bytes'),
  mtime: z.string().nullable().describe('file modification time (UTC); attackers often reset it, compare with ctime in the raw copy\'s manifest entry'),
  fileUid: z.number().int().nullable().describe('numeric owner of the file'),
  fileOwner: z.string().nullable().describe('owner name from the examined host\'s passwd (null when the uid has no name)'),
  fileMode: z.string().nullable().describe('permission bits in octal (0644); cron refuses group/other-writable system crontabs'),
  runPartsName: z.boolean().nullable().describe('whether the file name is one run-parts (cron.daily & co.) and Debian cron.d accept: only letters, digits, _ and -; files with other names are skipped by cron'),
  line: z.number().int().nullable().describe('1-based line number in the file (at-job: where the commands start)'),
  raw: z.string().nullable().describe('the whole line exactly as stored (control bytes kept)'),
  rawBase64: z.string().nullable().describe('the line\'s bytes in base64, only when they are not valid UTF-8'),
  schedule: z.string().nullable().describe('job: the five time fields or @special; anacron: "PERIOD DELAY"; at-job: the run time (UTC)'),
  special: z.string().nullable().describe('@reboot, @daily… when the job uses one (@reboot runs at every boot)'),
  user: z.string().nullable().describe('who the job runs as: the user field of a system crontab, the spool file\'s name, or the at job\'s uid mapped to a name'),
  userFrom: z.enum(['line', 'spool-name', 'at-header', 'anacron']).nullable().describe('where `user` came from (anacron: anacron runs every job as root)'),
  userUid: z.number().int().nullable().describe('uid of `user` in the examined host\'s passwd; null when no such user exists'),
  command: z.string().nullable().describe('the command exactly as cron passes it to the shell (a trailing carriage return included); at-job: the queued commands'),
  commandBase64: z.string().nullable().describe('the command\'s bytes in base64, only when they are not valid UTF-8'),
  jobId: z.string().nullable().describe('anacron: the job identifier; at-job: the job number and queue (e.g. 12@a); anacron-stamp: the job it timestamps'),
  envName: z.string().nullable().describe('env: the variable name (SHELL, PATH, MAILTO, CRON_TZ…)'),
  envValue: z.string().nullable().describe('env: the value cron assigns'),
  crlf: z.boolean().nullable().describe('the line ends with a carriage return (CRLF file); cron keeps it as part of the command'),
  carriageReturns: z.number().int().nullable().describe('carriage returns inside the line: `cat` shows only what follows the last one, hiding the rest'),
  controlBytes: z.number().int().nullable().describe('other control bytes in the line (escape sequences, NUL, backspace)'),
  junkBytes: z.number().int().nullable().describe('bytes of the file in lines cron cannot parse (binary junk around a valid line is the mark of a crontab written through Redis)'),
  junkLines: z.array(z.number().int()).nullable().describe('file: line numbers cron cannot parse (at most 200)'),
  nulBytes: z.number().int().nullable().describe('NUL bytes in the file'),
  firstLines: z.string().nullable().describe('script, at-job: the first lines of the file as text (binary files: null)'),
  executable: z.boolean().nullable().describe('script: whether any execute bit is set (run-parts skips files that are not executable)'),
  truncated: z.boolean().nullable().describe('the file was larger than the read limit; only its start was parsed'),
});
type CronRow = z.infer<typeof Row>;

const MAX_BYTES = 16 * 1024 * 1024;

function base(location: Location, file: string, fileBase64: string | null, fileType: string): CronRow {
  return {
    kind: 'file', location, file, fileBase64, fileType, linkTarget: null, linkFinal: null, linkExists: null,
    sha256: null, size: null, mtime: null, fileUid: null, fileOwner: null, fileMode: null, runPartsName: null,
    line: null, raw: null, rawBase64: null, schedule: null, special: null, user: null, userFrom: null, userUid: null,
    command: null, commandBase64: null, jobId: null, envName: null, envValue: null, crlf: null, carriageReturns: null,
    controlBytes: null, junkBytes: null, junkLines: null, nulBytes: null, firstLines: null, executable: null, truncated: null,
  };
}

interface Users {
  byName: Map<string, PasswdEntry>;
  byUid: Map<number, string>;
}

/** One file of a cron directory (or a fixed path), read with its facts. */
interface Item {
  file: string;
  fileBase64: string | null;
  fileType: string;
  name: string;
  entry: DirEntry | null;
}

async function fileRow(ctx: CollectorContext, users: Users, location: Location, item: Item, read: ReadResult | null): Promise<CronRow> {
  const row = base(location, item.file, item.fileBase64, item.fileType);
  if (item.fileType === 'symlink') {
    const link = await followLink(ctx.host, item.file);
    if (link) {
      row.linkTarget = encodeHostPath(Buffer.from(link.target)).text;
      row.linkFinal = link.finalPath;
      row.linkExists = link.exists;
    }
  }
  if (read) {
    const f = readFacts(read);
    Object.assign(row, { sha256: f.sha256, size: f.size, mtime: f.mtime, fileUid: f.uid, fileMode: f.mode, truncated: read.truncated });
    row.fileOwner = users.byUid.get(f.uid) ?? null;
  } else if (item.entry?.stat) {
    const st = item.entry.stat;
    Object.assign(row, { size: st.size, mtime: st.mtime.toISOString(), fileUid: st.uid, fileMode: (st.mode & 0o7777).toString(8).padStart(4, '0') });
    row.fileOwner = users.byUid.get(st.uid) ?? null;
  }
  return row;
}

function lineCols(l: CronLineFacts): Partial<CronRow> {
  const raw = encodeHostPath(l.raw);
  return { line: l.line, raw: raw.text, rawBase64: raw.base64 ?? null, crlf: l.crlf, carriageReturns: l.carriageReturns, controlBytes: l.controlBytes };
}

function envCols(e: CronEnv): Partial<CronRow> {
  return { kind: 'env', ...lineCols(e), envName: encodeHostPath(e.name).text, envValue: encodeHostPath(e.value).text };
}

/** Reads an item if it is something a read makes sense for; FIFOs, sockets and devices are recorded, never opened. */
async function readItem(ctx: CollectorContext, item: Item): Promise<ReadResult | null> {
  if (item.fileType === 'dir') return null;
  if (item.fileType !== 'file' && item.fileType !== 'symlink' && item.fileType !== 'unknown') {
    ctx.error(item.file, 'ENOTREG', `a ${item.fileType} where a file was expected; not opened`);
    return null;
  }
  return item.entry ? readEntry(ctx, item.entry, { maxBytes: MAX_BYTES }) : ctx.read(item.file, { maxBytes: MAX_BYTES });
}

async function* crontabRows(ctx: CollectorContext, users: Users, location: Location, item: Item, flavor: CrontabFlavor | 'anacron'): AsyncGenerator<CronRow> {
  const read = await readItem(ctx, item);
  const head = await fileRow(ctx, users, location, item, read);
  if (location === 'cron.d') head.runPartsName = runPartsName(item.name);
  let spoolUser: string | null = null;
  if (location === 'user-spool') spoolUser = item.name;
  if (!read) {
    yield head;
    return;
  }
  const parsed = flavor === 'anacron' ? parseAnacrontab(read.data) : parseCrontab(read.data, flavor);
  Object.assign(head, { junkBytes: parsed.junkBytes, junkLines: parsed.junkLines.slice(0, 200), nulBytes: parsed.nulBytes });
  yield head;
  const fileCols = {
    sha256: head.sha256, size: head.size, mtime: head.mtime, fileUid: head.fileUid, fileOwner: head.fileOwner, fileMode: head.fileMode,
    runPartsName: head.runPartsName, linkTarget: head.linkTarget, linkFinal: head.linkFinal, linkExists: head.linkExists,
    junkBytes: parsed.junkBytes, nulBytes: parsed.nulBytes, truncated: head.truncated,
  };
  for (const e of parsed.entries) {
    const row: CronRow = { ...base(location, item.file, item.fileBase64, item.fileType), ...fileCols };
    if (e.kind === 'env') {
      Object.assign(row, envCols(e));
    } else if ('period' in e) {
      const cmd = encodeHostPath(e.command);
      Object.assign(row, lineCols(e), { kind: 'job', schedule: `${e.period} ${e.delay}`, special: e.period.startsWith('@') ? e.period : null, user: 'root', userFrom: 'anacron', userUid: users.byName.get('root')?.uid ?? null, command: cmd.text, commandBase64: cmd.base64 ?? null, jobId: encodeHostPath(e.id).text });
    } else {
      const cmd = encodeHostPath(e.command);
      const user = e.user ? encodeHostPath(e.user).text : spoolUser;
      Object.assign(row, lineCols(e), {
        kind: 'job', schedule: e.schedule, special: e.special, user, userFrom: e.user ? 'line' : spoolUser !== null ? 'spool-name' : null,
        userUid: user !== null ? (users.byName.get(user)?.uid ?? null) : null, command: cmd.text, commandBase64: cmd.base64 ?? null,
      });
    }
    yield row;
  }
}

async function* scriptRows(ctx: CollectorContext, users: Users, location: Location, item: Item): AsyncGenerator<CronRow> {
  const read = await readItem(ctx, item);
  const row = await fileRow(ctx, users, location, item, read);
  row.kind = 'script';
  row.runPartsName = runPartsName(item.name);
  const st = item.entry?.stat;
  const mode = read?.facts.mode ?? st?.mode;
  row.executable = mode === undefined ? null : (mode & 0o111) !== 0;
  if (read && !looksBinary(read.data)) row.firstLines = firstLines(read.data);
  yield row;
}

async function* atRows(ctx: CollectorContext, users: Users, item: Item): AsyncGenerator<CronRow> {
  const read = await readItem(ctx, item);
  const row = await fileRow(ctx, users, 'at-spool', item, read);
  row.kind = 'at-job';
  const name = parseAtJobName(item.name);
  if (name) {
    row.schedule = name.runAt;
    row.jobId = `${name.jobNumber}@${name.queue}`;
  }
  if (read) {
    const job = parseAtJob(read.data);
    const cmd = encodeHostPath(job.command);
    row.command = cmd.text;
    row.commandBase64 = cmd.base64 ?? null;
    row.line = job.commandLine;
    if (job.uid !== null) {
      row.user = users.byUid.get(job.uid) ?? String(job.uid);
      row.userFrom = 'at-header';
      row.userUid = job.uid;
    }
    if (!looksBinary(read.data)) row.firstLines = firstLines(read.data);
  }
  yield row;
}

async function dirItems(ctx: CollectorContext, dir: string, skip: (e: DirEntry) => boolean = () => false): Promise<Item[]> {
  const entries = await listDir(ctx, dir);
  if (!entries) return [];
  return entries.filter((e) => !skip(e)).map((e) => ({ file: e.path, fileBase64: e.pathBase64, fileType: e.type, name: e.name, entry: e }));
}

async function fixedItem(ctx: CollectorContext, file: string): Promise<Item | null> {
  try {
    const st = await ctx.host.lstat(file);
    const type = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isDirectory() ? 'dir' : 'unknown';
    return { file, fileBase64: null, fileType: type, name: file.slice(file.lastIndexOf('/') + 1), entry: null };
  } catch {
    return null;
  }
}

const isDir = (e: DirEntry) => e.type === 'dir';
/** Subdirectories of RHEL's /var/spool/cron that are not user crontabs. */
const NOT_SPOOL = new Set(['crontabs', 'atjobs', 'atspool', 'lastrun', 'tabs']);

export const cronCollector = defineCollector({
  name: 'cron',
  title: 'Cron, anacron and at jobs',
  description:
    'Every scheduled job: /etc/crontab, /etc/cron.d, the cron.{hourly,daily,weekly,monthly} script directories, per-user ' +
    'crontabs (Debian /var/spool/cron/crontabs, RHEL /var/spool/cron, SUSE /var/spool/cron/tabs), anacrontab and its ' +
    'timestamps, and queued at jobs. Each job line comes with its file, line number, schedule, user and the command ' +
    'exactly as stored. Look for @reboot jobs, commands that download (curl, wget) and pipe to a shell, jobs of ' +
    'unexpected users, lines with carriage returns inside (text hidden from `cat`) and files with junk bytes and NULs ' +
    'around one valid line (written through Redis CONFIG SET dir; Debian cron runs such a line, cronie rejects the whole ' +
    'file). A file row is written for every crontab, so empty, unreadable or FIFO entries show up too. Raw copies of ' +
    'every file read are kept.',
  preconditions: 'Any Linux host, live or --root. Root is needed to read user spools and at jobs.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const passwd = await hostUsers(ctx);
    const users: Users = { byName: new Map(), byUid: new Map() };
    for (const u of passwd) {
      if (!users.byName.has(u.name)) users.byName.set(u.name, u);
      if (!users.byUid.has(u.uid)) users.byUid.set(u.uid, u.name);
    }

    const crontab = await fixedItem(ctx, '/etc/crontab');
    if (crontab) yield* crontabRows(ctx, users, 'crontab', crontab, 'system');
    for (const item of await dirItems(ctx, '/etc/cron.d', isDir)) {
      if (ctx.signal.aborted) return;
      yield* crontabRows(ctx, users, 'cron.d', item, 'system');
    }
    for (const period of ['hourly', 'daily', 'weekly', 'monthly', 'yearly'] as const) {
      for (const item of await dirItems(ctx, `/etc/cron.${period}`, isDir)) {
        if (ctx.signal.aborted) return;
        yield* scriptRows(ctx, users, `cron.${period}`, item);
      }
    }
    const spoolDirs = [
      { dir: '/var/spool/cron/crontabs', skip: isDir },
      { dir: '/var/spool/cron/tabs', skip: isDir },
      { dir: '/var/spool/cron', skip: (e: DirEntry) => isDir(e) || NOT_SPOOL.has(e.name) },
    ];
    for (const { dir, skip } of spoolDirs) {
      for (const item of await dirItems(ctx, dir, skip)) {
        if (ctx.signal.aborted) return;
        yield* crontabRows(ctx, users, 'user-spool', item, 'user');
      }
    }
    const anacrontab = await fixedItem(ctx, '/etc/anacrontab');
    if (anacrontab) yield* crontabRows(ctx, users, 'anacrontab', anacrontab, 'anacron');
    for (const item of await dirItems(ctx, '/var/spool/anacron', isDir)) {
      const read = await readItem(ctx, item);
      const row = await fileRow(ctx, users, 'anacron-spool', item, read);
      row.kind = 'anacron-stamp';
      row.jobId = item.name;
      if (read) {
        const raw = encodeHostPath(read.data.subarray(0, 256));
        row.raw = raw.text;
        row.rawBase64 = raw.base64 ?? null;
      }
      yield row;
    }
    for (const dir of ['/var/spool/cron/atjobs', '/var/spool/at']) {
      for (const item of await dirItems(ctx, dir, (e) => isDir(e) || e.name === '.SEQ' || e.name === '.lockfile')) {
        if (ctx.signal.aborted) return;
        yield* atRows(ctx, users, item);
      }
    }
  },
});
