import { z } from 'zod';
import { openLog, type ContentStatus, type OpenedLog } from '../host/compressed.js';
import { pathKind, type PathKind } from '../host/file-kind.js';
import { HostReadError } from '../host/host.js';
import { LASTLOG_RECORD_SIZE, lastlogOffset, parseLastlogRecord } from '../host/lastlog.js';
import { parsePasswd, userNames } from '../host/passwd.js';
import { UTMP_RECORD_SIZE, parseUtmp } from '../host/utmp.js';
import { defineCollector, type CollectorContext } from './collector.js';

const Row = z.object({
  kind: z
    .enum(['record', 'lastlog', 'file'])
    .describe('record: one wtmp/btmp record; lastlog: the last login of one uid; file: facts about one source file (also when it is empty or gone)'),
  source: z.string().describe('file the row comes from (/var/log/wtmp, /var/log/btmp.1, /var/log/lastlog…)'),
  offset: z.number().int().nullable().describe('byte offset of the record in the (decompressed) file'),
  recordType: z
    .string()
    .nullable()
    .describe('utmp type: USER_PROCESS (login), DEAD_PROCESS (logout), BOOT_TIME, RUN_LVL (shutdown/runlevel), LOGIN_PROCESS (btmp: failed attempt)…'),
  user: z.string().nullable().describe('user name in the record (btmp: the name tried — sometimes a password typed in the wrong field); lastlog: name of the uid in passwd'),
  uid: z.number().int().nullable().describe('lastlog: the uid the record belongs to'),
  line: z.string().nullable().describe('terminal or service (pts/0, tty1, ssh:notty)'),
  host: z.string().nullable().describe('remote host or address as the login program wrote it (attacker-influenced); kernel release for boot records'),
  address: z.string().nullable().describe('remote IP address stored in binary form, when recorded'),
  pid: z.number().int().nullable().describe('pid of the login process'),
  time: z.string().nullable().describe('UTC time of the record (lastlog: of the last login)'),
  size: z.number().int().nullable().describe('file: size in bytes (apparent size for the sparse lastlog)'),
  mtime: z.string().nullable().describe('file: last modification time (UTC)'),
  linkTarget: z.string().nullable().describe('file: where the path points when it is a symlink (a log linked to /dev/null records nothing)'),
  targetKind: z.string().nullable().describe('file: what the path is after following links (file, char-device, missing…)'),
  compression: z.string().nullable().describe('file: gzip, xz… by magic bytes; gzip is decompressed in memory (capped) to parse, other formats are only copied'),
  copied: z.boolean().nullable().describe('file: a raw copy is in the bundle (capped at --log-max; the manifest records any truncation)'),
  records: z.number().int().nullable().describe('file: whole records parsed (lastlog: uids with a record)'),
  zeroRecords: z.number().int().nullable().describe('file: records that are entirely zero bytes (no row each): wiped entries'),
  trailingBytes: z.number().int().nullable().describe('file: bytes after the last whole 384-byte record: a torn write or an edited file'),
  timeOrderBreaks: z.number().int().nullable().describe('file: records whose time is earlier than the record before (edited or spliced wtmp; also clock changes)'),
  firstTime: z.string().nullable().describe('file: time of the first record with a time'),
  lastTime: z.string().nullable().describe('file: time of the last record with a time'),
  bytesParsed: z.number().int().nullable().describe('file: bytes parsed (decompressed for gzip)'),
  parsedWhole: z.boolean().nullable().describe('file: the whole content was parsed (false: stopped at the cap or at a decompression error)'),
  note: z.string().nullable().describe('file: anything else worth knowing (not parsed, decompression error, sparse read)'),
});

type LoginRow = z.infer<typeof Row>;

const EMPTY: LoginRow = {
  kind: 'file',
  source: '',
  offset: null,
  recordType: null,
  user: null,
  uid: null,
  line: null,
  host: null,
  address: null,
  pid: null,
  time: null,
  size: null,
  mtime: null,
  linkTarget: null,
  targetKind: null,
  compression: null,
  copied: null,
  records: null,
  zeroRecords: null,
  trailingBytes: null,
  timeOrderBreaks: null,
  firstTime: null,
  lastTime: null,
  bytesParsed: null,
  parsedWhole: null,
  note: null,
};

const UTMP_NAME = /^(?:wtmp|btmp)(?:[.-].*)?$/;
const LASTLOG = '/var/log/lastlog';
/** The sparse lastlog is copied up to this many bytes (uid ~115,000); records of larger uids are in the rows. */
const LASTLOG_COPY_MAX = 32 * 1024 * 1024;
/** SQLite successors of lastlog and wtmp (util-linux lastlog2, wtmpdb), with their write-ahead files. */
const SQLITE_DBS = ['/var/lib/lastlog/lastlog2.db', '/var/log/lastlog2.db', '/var/lib/wtmpdb/wtmp.db'];
const SQLITE_SIDES = ['', '-wal', '-journal', '-shm'];
const ZERO_RECORD = Buffer.alloc(UTMP_RECORD_SIZE);

/** lstat facts of a source; null (recorded) when the path cannot even be looked at. */
async function kindOf(ctx: CollectorContext, hostPath: string): Promise<PathKind | null> {
  try {
    return await pathKind(ctx.host, hostPath);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    ctx.error(hostPath, err.code, err.message);
    return null;
  }
}

function fileColumns(source: string, k: PathKind, log: OpenedLog | null): LoginRow {
  return {
    ...EMPTY,
    source,
    size: log?.facts.size ?? k.stats?.size ?? null,
    mtime: (log?.facts.mtime ?? k.stats?.mtime)?.toISOString() ?? null,
    linkTarget: k.linkTarget,
    targetKind: k.targetKind,
    compression: log?.compression ?? null,
  };
}

/** Opens a source for reading; a row saying why not when it cannot be (the failure is also recorded). */
async function open(ctx: CollectorContext, hostPath: string, k: PathKind): Promise<OpenedLog | LoginRow> {
  if (k.targetKind !== 'file') {
    return { ...fileColumns(hostPath, k, null), copied: false, note: `not a regular file (${k.kind}${k.linkTarget !== null ? ` -> ${k.targetKind}` : ''}): nothing to read` };
  }
  try {
    return await openLog(ctx.host, hostPath);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    ctx.error(hostPath, err.code, err.message);
    return { ...fileColumns(hostPath, k, null), copied: false, note: `could not be opened: ${err.message}` };
  }
}

async function* utmpFile(ctx: CollectorContext, hostPath: string): AsyncGenerator<LoginRow> {
  const k = await kindOf(ctx, hostPath);
  if (!k || k.kind === 'missing') return;
  const opened = await open(ctx, hostPath, k);
  if (!('content' in opened)) {
    yield opened;
    return;
  }
  const log = opened;
  try {
    const copied = await ctx.copyFile(hostPath, { maxBytes: ctx.settings.logMaxBytes });
    const status: ContentStatus = { bytes: 0, capped: false, error: null };
    let carry = Buffer.alloc(0);
    let base = 0;
    let records = 0;
    let zero = 0;
    let breaks = 0;
    let prevMs: number | null = null;
    let firstTime: string | null = null;
    let lastTime: string | null = null;
    if (log.readable) {
      for await (const chunk of log.content(ctx.settings.logMaxBytes, status)) {
        const buf = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
        const whole = buf.length - (buf.length % UTMP_RECORD_SIZE);
        const body = buf.subarray(0, whole);
        for (const r of parseUtmp(body).records) {
          records++;
          if (body.compare(ZERO_RECORD, 0, UTMP_RECORD_SIZE, r.offset, r.offset + UTMP_RECORD_SIZE) === 0) {
            zero++;
            continue;
          }
          if (r.time !== null) {
            const ms = Date.parse(r.time);
            if (prevMs !== null && ms < prevMs) breaks++;
            prevMs = ms;
            firstTime ??= r.time;
            lastTime = r.time;
          }
          yield {
            ...EMPTY,
            kind: 'record',
            source: hostPath,
            offset: base + r.offset,
            recordType: r.type,
            user: r.user,
            line: r.line,
            host: r.host,
            address: r.address,
            pid: r.pid,
            time: r.time,
          };
        }
        base += whole;
        carry = Buffer.from(buf.subarray(whole));
        if (ctx.signal.aborted) return;
      }
    }
    const notes: string[] = [];
    if (!log.readable) notes.push(`${log.compression} compressed: copied, not parsed`);
    if (status.capped) notes.push(`parsing stopped at the cap (${ctx.settings.logMaxBytes} bytes)`);
    if (status.error) notes.push(`decompression failed after ${status.bytes} bytes: ${status.error}`);
    yield {
      ...fileColumns(hostPath, k, log),
      copied,
      records,
      zeroRecords: zero,
      trailingBytes: log.readable && !status.capped ? carry.length : null,
      timeOrderBreaks: breaks,
      firstTime,
      lastTime,
      bytesParsed: status.bytes,
      parsedWhole: log.readable && !status.capped && status.error === null,
      note: notes.length > 0 ? notes.join('; ') : null,
    };
  } finally {
    await log.close();
  }
}

async function* lastlog(ctx: CollectorContext, uids: Map<number, string>): AsyncGenerator<LoginRow> {
  const k = await kindOf(ctx, LASTLOG);
  if (!k || k.kind === 'missing') return;
  const opened = await open(ctx, LASTLOG, k);
  if (!('content' in opened)) {
    yield opened;
    return;
  }
  const log = opened;
  let found = 0;
  try {
    const size = log.facts.size;
    for (const [uid, user] of [...uids].sort((a, b) => a[0] - b[0])) {
      if (ctx.signal.aborted) return;
      const off = lastlogOffset(uid);
      if (off + LASTLOG_RECORD_SIZE > size) continue;
      let rec;
      try {
        rec = parseLastlogRecord(await log.readAt(off, LASTLOG_RECORD_SIZE));
      } catch (err) {
        if (!(err instanceof HostReadError)) throw err;
        ctx.error(err.hostPath, err.code, err.message);
        break;
      }
      if (!rec) continue;
      found++;
      yield { ...EMPTY, kind: 'lastlog', source: LASTLOG, offset: off, uid, user, line: rec.line, host: rec.host, time: rec.time };
    }
    const copied = await ctx.copyFile(LASTLOG, { maxBytes: Math.min(ctx.settings.logMaxBytes, LASTLOG_COPY_MAX) });
    yield {
      ...fileColumns(LASTLOG, k, log),
      copied,
      records: found,
      note:
        size === 0
          ? 'empty: no last login is recorded for any uid (a system nobody has logged in to yet, or the file was emptied)'
          : `sparse file: only the records of the ${uids.size} uids in /etc/passwd were read (a deleted account's record is not listed)`,
    };
  } finally {
    await log.close();
  }
}

async function* sqliteFile(ctx: CollectorContext, hostPath: string): AsyncGenerator<LoginRow> {
  const k = await kindOf(ctx, hostPath);
  if (!k || k.kind === 'missing') return;
  if (k.targetKind !== 'file') {
    yield { ...fileColumns(hostPath, k, null), copied: false, note: `not a regular file (${k.kind}): nothing to copy` };
    return;
  }
  const copied = await ctx.copyFile(hostPath, { maxBytes: ctx.settings.logMaxBytes });
  yield { ...fileColumns(hostPath, k, null), copied, note: 'SQLite database (lastlog2 / wtmpdb): copied raw, not parsed' };
}

export const loginsCollector = defineCollector({
  name: 'logins',
  title: 'Login history: wtmp, btmp, lastlog',
  description:
    'Past logins and logouts, reboots and shutdowns (wtmp and its rotations, gzip ones decompressed in memory), failed ' +
    'logins (btmp), and the last login of every uid in passwd (lastlog), each record read and parsed directly — never ' +
    'through `last`, `lastb` or `lastlog`, which an intruder can replace. One row per record, and one `file` row per source ' +
    'with its size, counts and times: an empty or missing wtmp on a server that has been up for months, zeroed records, ' +
    'bytes after the last whole record, times that go backwards, or a symlink to /dev/null are signs of tampering. Look for ' +
    'logins from unknown addresses, logins at odd hours, accounts that never log in doing so, bursts in btmp followed by a ' +
    'success in wtmp from the same address. lastlog2 and wtmpdb SQLite databases are copied raw, not parsed. Raw copies of ' +
    'every file are kept, capped at --log-max.',
  preconditions:
    'Any host or --root image with glibc-format (x86-64, aarch64) utmp records. btmp is readable by root only. Hosts that ' +
    'moved to wtmpdb/lastlog2 (Debian 13+) have only the databases.',
  timeoutMs: 60_000,
  row: Row,
  async *collect(ctx) {
    const passwdRead = await ctx.read('/etc/passwd', { keep: false });
    const names = passwdRead ? userNames(parsePasswd(passwdRead.data.toString('utf8')).entries) : new Map<number, string>();
    let logNames: string[] = [];
    try {
      logNames = await ctx.host.readdir('/var/log');
    } catch (err) {
      if (!(err instanceof HostReadError)) throw err;
      if (err.code !== 'ENOENT') ctx.error('/var/log', err.code, err.message);
    }
    for (const n of logNames.filter((f) => UTMP_NAME.test(f)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
      if (ctx.signal.aborted) return;
      yield* utmpFile(ctx, `/var/log/${n}`);
    }
    yield* lastlog(ctx, names);
    for (const db of SQLITE_DBS) for (const side of SQLITE_SIDES) yield* sqliteFile(ctx, `${db}${side}`);
  },
});
