import { z } from 'zod';
import { openLog, type ContentStatus, type OpenedLog } from '../host/compressed.js';
import { pathKind, type PathKind } from '../host/file-kind.js';
import { HostReadError } from '../host/host.js';
import { JOURNAL_HEADER_MIN, parseJournalHeader } from '../host/journal-header.js';
import { LogScanner, lastStampIn, type LogScan } from '../host/log-scan.js';
import { timeSpan } from '../host/syslog-time.js';
import { defineCollector, type CollectorContext } from './collector.js';

const CATEGORIES = ['auth', 'audit', 'cron', 'syslog', 'kernel', 'daemon', 'web', 'database', 'packages', 'mail', 'other', 'journal-export', 'journal'] as const;
type Category = (typeof CATEGORIES)[number];

const Row = z.object({
  path: z.string().describe('log file as the host has it; for journal-export, the journalctl command line run'),
  category: z.enum(CATEGORIES).describe('what the log records: auth (auth.log, secure), audit, cron, syslog (syslog, messages), kernel, daemon, web, database, packages (dpkg, apt, yum), mail, other, journal (journald files), journal-export'),
  kind: z.string().nullable().describe('what the path itself is: file, symlink, fifo, directory…'),
  linkTarget: z.string().nullable().describe('where a symlink points (a log linked to /dev/null records nothing)'),
  targetKind: z.string().nullable().describe('what the path is after following links'),
  size: z.number().int().nullable().describe('size in bytes as stored (compressed size for .gz)'),
  mtime: z.string().nullable().describe('last modification time (UTC): when the last line was written'),
  ctime: z.string().nullable().describe('last status change (UTC)'),
  compression: z.string().nullable().describe('gzip, xz, bzip2, zstd, lz4 by magic bytes (a name can lie); copied as is; gzip is also decompressed in a stream to scan'),
  copied: z.boolean().describe('a raw copy is in the bundle (under files/, or commands/ for journal-export)'),
  bytesCopied: z.number().int().nullable().describe('bytes copied into the bundle'),
  truncated: z.boolean().nullable().describe('the file was larger than the cap (--log-max): only its first bytesCopied bytes were copied; the manifest records it too'),
  empty: z.boolean().nullable().describe('the file is zero bytes: a log emptied after the fact looks like this'),
  nulBytes: z.number().int().nullable().describe('NUL bytes in the scanned content: text logs hold none; a log truncated while its writer kept its offset, or wiped with zeros, does'),
  nulRuns: z.number().int().nullable().describe('separate runs of NUL bytes in the scanned content'),
  allNul: z.boolean().nullable().describe('every scanned byte is NUL: the log was overwritten with zeros'),
  lineCount: z.number().int().nullable().describe('lines in the content, when all of it was scanned (null when over the cap)'),
  bytesScanned: z.number().int().nullable().describe('bytes of content scanned for these facts (decompressed for gzip)'),
  scannedWhole: z.boolean().nullable().describe('all the content was scanned (false: capped, not decompressible, or a decompression error)'),
  firstTime: z.string().nullable().describe('time of the first line with a parseable timestamp: UTC with Z, or the host\'s local time without a zone'),
  lastTime: z.string().nullable().describe('time of the last line with a parseable timestamp (for a file over the cap, read from its end)'),
  timeFormat: z.string().nullable().describe('timestamp format found: rfc3164 (classic syslog), rfc3339, rfc5424, iso-space, audit, clf, apache-error, nginx-error, apt; journal-header and journal-export for journald'),
  timesLocal: z.boolean().nullable().describe('the times carry no zone: they are the host\'s local time (see the system collector\'s timezone)'),
  yearInferred: z.boolean().nullable().describe('classic syslog lines carry no year: it was inferred from the file\'s mtime (the last line is not after the mtime; a file spans less than a year)'),
  entries: z.number().int().nullable().describe('journal: entries the file header claims; journal-export: entries exported'),
  journalState: z.string().nullable().describe('journal: offline (closed), online (open by journald now, or it crashed), archived (rotated)'),
  note: z.string().nullable().describe('anything else: why a file was not copied or scanned, decompression errors'),
});

type LogRow = z.infer<typeof Row>;

const EMPTY: Omit<LogRow, 'path' | 'category'> = {
  kind: null,
  linkTarget: null,
  targetKind: null,
  size: null,
  mtime: null,
  ctime: null,
  compression: null,
  copied: false,
  bytesCopied: null,
  truncated: null,
  empty: null,
  nulBytes: null,
  nulRuns: null,
  allNul: null,
  lineCount: null,
  bytesScanned: null,
  scannedWhole: null,
  firstTime: null,
  lastTime: null,
  timeFormat: null,
  timesLocal: null,
  yearInferred: null,
  entries: null,
  journalState: null,
  note: null,
};

interface LogSpec {
  dir: string;
  match: RegExp;
  category: Category;
  /** Look into subdirectories this deep (per-site web logs). */
  depth?: number;
}

const rotated = (names: string) => new RegExp(`^(?:${names})(?:[.-].*)?$`);

/** What is copied, most telling first (a timeout keeps what was done). */
export const LOG_SPECS: readonly LogSpec[] = [
  { dir: '/var/log', match: rotated('auth\\.log|secure'), category: 'auth' },
  { dir: '/var/log/audit', match: rotated('audit\\.log'), category: 'audit' },
  { dir: '/var/log', match: rotated('cron|cron\\.log'), category: 'cron' },
  { dir: '/var/log', match: rotated('syslog|messages|user\\.log'), category: 'syslog' },
  { dir: '/var/log', match: rotated('kern\\.log'), category: 'kernel' },
  { dir: '/var/log', match: rotated('daemon\\.log'), category: 'daemon' },
  { dir: '/var/log/nginx', match: /./, category: 'web', depth: 2 },
  { dir: '/var/log/apache2', match: /./, category: 'web', depth: 2 },
  { dir: '/var/log/httpd', match: /./, category: 'web', depth: 2 },
  { dir: '/var/log/postgresql', match: /./, category: 'database' },
  { dir: '/var/log/mysql', match: /./, category: 'database' },
  { dir: '/var/log/mariadb', match: /./, category: 'database' },
  { dir: '/var/log', match: rotated('dpkg\\.log|yum\\.log|dnf\\.log|dnf\\.rpm\\.log'), category: 'packages' },
  { dir: '/var/log/apt', match: rotated('history\\.log|term\\.log'), category: 'packages' },
  { dir: '/var/log', match: rotated('mail\\.log|maillog|mail\\.err|mail\\.warn'), category: 'mail' },
  { dir: '/var/log', match: rotated('sudo\\.log|ufw\\.log|boot\\.log|firewalld'), category: 'other' },
];

const JOURNAL_DIRS = ['/run/log/journal', '/var/log/journal'];
const JOURNAL_NAME = /\.journal~?$/;
/** All journal files together are copied up to this many times --log-max, newest first. */
export const JOURNAL_TOTAL_FACTOR = 4;
/** runTool holds the output in memory: journalctl's export is capped lower than --log-max. */
const EXPORT_MAX = 64 * 1024 * 1024;
const TAIL_BYTES = 64 * 1024;

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

async function kindOf(ctx: CollectorContext, hostPath: string): Promise<PathKind | null> {
  try {
    return await pathKind(ctx.host, hostPath);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    ctx.error(hostPath, err.code, err.message);
    return null;
  }
}

async function listDir(ctx: CollectorContext, dir: string): Promise<string[]> {
  try {
    return (await ctx.host.readdir(dir)).sort(byName);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') ctx.error(dir, err.code, err.message);
    return [];
  }
}

/** Files under a spec's directory that match, with what each path is; directories are entered (not through links). */
async function* candidates(ctx: CollectorContext, dir: string, match: RegExp, depth: number): AsyncGenerator<{ path: string; kind: PathKind }> {
  for (const name of await listDir(ctx, dir)) {
    if (ctx.signal.aborted) return;
    const p = `${dir}/${name}`;
    if (!match.test(name) && depth <= 1) continue;
    const k = await kindOf(ctx, p);
    if (k?.kind === 'missing' && name.includes('\uFFFD')) {
      // the name is not valid UTF-8: Host takes string paths, so it cannot be opened; say so rather than skip it silently
      ctx.error(p, 'EENCODING', 'file name is not valid UTF-8 and cannot be read through a string path');
      continue;
    }
    if (!k || k.kind === 'missing') continue;
    if (k.kind === 'directory') {
      if (depth > 1) yield* candidates(ctx, p, match, depth - 1);
      continue;
    }
    if (match.test(name)) yield { path: p, kind: k };
  }
}

function statColumns(k: PathKind, log: OpenedLog | null) {
  const st = log?.facts ?? k.stats;
  return {
    kind: k.kind,
    linkTarget: k.linkTarget,
    targetKind: k.targetKind,
    size: st ? Number(st.size) : null,
    mtime: st?.mtime.toISOString() ?? null,
    ctime: st?.ctime.toISOString() ?? null,
  };
}

/** A read at a position; an empty buffer (the failure recorded) when it fails. */
async function readAt(ctx: CollectorContext, log: OpenedLog, position: number, length: number): Promise<Buffer> {
  try {
    return await log.readAt(position, length);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    ctx.error(err.hostPath, err.code, err.message);
    return Buffer.alloc(0);
  }
}

/** Opens a candidate; a row saying why not when it cannot be read. */
async function open(ctx: CollectorContext, p: string, category: Category, k: PathKind): Promise<OpenedLog | LogRow> {
  if (k.targetKind !== 'file') {
    return { path: p, category, ...EMPTY, ...statColumns(k, null), note: `not a regular file (${k.kind}${k.linkTarget !== null ? ` -> ${k.targetKind}` : ''}): nothing to copy` };
  }
  try {
    return await openLog(ctx.host, p);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    ctx.error(p, err.code, err.message);
    return { path: p, category, ...EMPTY, ...statColumns(k, null), note: `could not be opened: ${err.message}` };
  }
}

async function textLog(ctx: CollectorContext, p: string, category: Category, k: PathKind): Promise<LogRow> {
  const opened = await open(ctx, p, category, k);
  if (!('content' in opened)) return opened;
  const log = opened;
  const cap = ctx.settings.logMaxBytes;
  try {
    const size = log.facts.size;
    const copied = await ctx.copyFile(p, { maxBytes: cap });
    const status: ContentStatus = { bytes: 0, capped: false, error: null };
    const scanner = new LogScanner();
    for await (const chunk of log.content(cap, status)) {
      scanner.push(chunk);
      if (ctx.signal.aborted) break;
    }
    const scan: LogScan = scanner.finish();
    const whole = log.readable && !status.capped && status.error === null && !ctx.signal.aborted;
    let last = scan.lastStamp;
    if (log.compression === null && status.capped && size > TAIL_BYTES) {
      // the end of a log over the cap still tells when it was last written to
      last = lastStampIn(await readAt(ctx, log, size - TAIL_BYTES, TAIL_BYTES), false) ?? last;
    }
    const span = timeSpan(scan.firstStamp, last, log.facts.mtime);
    const notes: string[] = [];
    if (!log.readable) notes.push(`${log.compression} compressed: copied as is, not scanned`);
    if (status.capped) notes.push(`scanned the first ${status.bytes} bytes of content only (the cap)`);
    if (status.error) notes.push(`decompression failed after ${status.bytes} bytes: ${status.error}`);
    return {
      path: p,
      category,
      ...EMPTY,
      ...statColumns(k, log),
      compression: log.compression,
      copied,
      bytesCopied: copied ? Math.min(size, cap) : 0,
      truncated: size > cap,
      empty: size === 0,
      nulBytes: log.readable ? scan.nulBytes : null,
      nulRuns: log.readable ? scan.nulRuns : null,
      allNul: log.readable ? scan.bytes > 0 && scan.nulBytes === scan.bytes : null,
      lineCount: whole ? scan.lines : null,
      bytesScanned: status.bytes,
      scannedWhole: whole,
      firstTime: span.firstTime,
      lastTime: span.lastTime,
      timeFormat: span.format,
      timesLocal: span.format === null ? null : span.local,
      yearInferred: span.format === null ? null : span.yearInferred,
      note: notes.length > 0 ? notes.join('; ') : null,
    };
  } finally {
    await log.close();
  }
}

async function journalFile(ctx: CollectorContext, p: string, k: PathKind, budget: { left: number }): Promise<LogRow> {
  const opened = await open(ctx, p, 'journal', k);
  if (!('content' in opened)) return opened;
  const log = opened;
  try {
    const size = log.facts.size;
    const header = parseJournalHeader(await readAt(ctx, log, 0, 272));
    const cap = ctx.settings.logMaxBytes;
    let copied = false;
    let note: string | null = header ? null : `no journal header (shorter than ${JOURNAL_HEADER_MIN} bytes or no LPKSHHRH signature)`;
    // a journal cut short by the total budget is of little use: copy whole (up to --log-max) or not at all
    if (Math.min(size, cap) <= budget.left) {
      copied = await ctx.copyFile(p, { maxBytes: cap });
      if (copied) budget.left -= Math.min(size, cap);
    } else {
      note = `not copied: journal files together are capped at ${JOURNAL_TOTAL_FACTOR} x --log-max, newest first`;
    }
    return {
      path: p,
      category: 'journal',
      ...EMPTY,
      ...statColumns(k, log),
      compression: null,
      copied,
      bytesCopied: copied ? Math.min(size, cap) : 0,
      truncated: size > cap,
      empty: size === 0,
      firstTime: header?.firstTime ?? null,
      lastTime: header?.lastTime ?? null,
      timeFormat: header ? 'journal-header' : null,
      timesLocal: header ? false : null,
      yearInferred: header ? false : null,
      entries: header?.entries ?? null,
      journalState: header?.state ?? null,
      note,
    };
  } finally {
    await log.close();
  }
}

/** Counts export entries and finds the first and last __REALTIME_TIMESTAMP without splitting a big buffer. */
export function exportFacts(out: Buffer): { entries: number; firstTime: string | null; lastTime: string | null } {
  let entries = out.subarray(0, 9).toString('latin1') === '__CURSOR=' ? 1 : 0;
  for (let i = out.indexOf('\n__CURSOR='); i !== -1; i = out.indexOf('\n__CURSOR=', i + 1)) entries++;
  const key = '__REALTIME_TIMESTAMP=';
  const at = (i: number) => {
    if (i === -1) return null;
    const start = i + key.length + (out[i] === 10 ? 1 : 0);
    const m = /^(\d{1,19})/.exec(out.subarray(start, start + 20).toString('latin1'));
    if (!m) return null;
    const ms = Number(BigInt(m[1]!) / 1000n);
    return Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : null;
  };
  const first = out.subarray(0, key.length).toString('latin1') === key ? 0 : out.indexOf(`\n${key}`);
  const lastLine = out.lastIndexOf(`\n${key}`);
  return { entries, firstTime: at(first), lastTime: at(lastLine === -1 ? first : lastLine) };
}

async function journalExport(ctx: CollectorContext): Promise<LogRow | null> {
  const days = Math.max(1, Math.round(ctx.settings.recentDays));
  const args = ['-o', 'export', '--no-pager', `--since=-${days}d`];
  const maxBytes = Math.min(ctx.settings.logMaxBytes, EXPORT_MAX);
  const run = await ctx.runTool('journalctl', args, { purpose: `journald entries of the last ${days} days in export format`, timeoutMs: 60_000, maxBytes });
  if (!run) return null;
  const f = exportFacts(run.stdout);
  const capped = run.stdout.length >= maxBytes;
  const notes = [`run as ${run.path} (exit ${run.exitCode ?? 'none'}); output under commands/logs/`];
  if (capped) notes.push(`output cut at ${maxBytes} bytes`);
  if (run.timedOut) notes.push('journalctl did not finish in time');
  if (run.stderr.length > 0) notes.push(`stderr: ${run.stderr.subarray(0, 200).toString('utf8').trim()}`);
  return {
    path: ['journalctl', ...args].join(' '),
    category: 'journal-export',
    ...EMPTY,
    size: run.stdout.length,
    copied: true,
    bytesCopied: run.stdout.length,
    truncated: capped || run.timedOut,
    empty: run.stdout.length === 0,
    firstTime: f.firstTime,
    lastTime: f.lastTime,
    timeFormat: f.firstTime ? 'journal-export' : null,
    timesLocal: f.firstTime ? false : null,
    yearInferred: f.firstTime ? false : null,
    entries: f.entries,
    note: notes.join('; '),
  };
}

export const logsCollector = defineCollector({
  name: 'logs',
  title: 'System, auth, audit, web and journal logs',
  description:
    'Raw copies of the logs an investigation reads — auth.log/secure, audit.log, cron, syslog/messages, kern.log, daemon.log, ' +
    'web server (nginx, apache2, httpd) and database logs, dpkg/apt/yum history, mail, sudo, ufw — with every rotated ' +
    'generation (.1, -20261123, .gz copied as is), the journald files of /var/log/journal and /run/log/journal, and on a live ' +
    'host an export of the recent journal (journalctl, recorded as an external tool). Each file is capped at --log-max; ' +
    'journal files together at 4 x --log-max, newest first; the manifest records every truncation. One row per file with ' +
    'facts to judge its integrity: empty, NUL bytes and runs (zeros where lines were: a wiped or truncated log), lines, and ' +
    'the first and last timestamps (gzip decompressed in a stream to find them). Compare first/last times across rotations ' +
    'for gaps, a last time long before collection on a busy host, an mtime far from the last line, and a log that is a ' +
    'symlink to /dev/null. Classic syslog times carry no year or zone: the year is inferred from the mtime and the times are ' +
    'flagged as local.',
  preconditions:
    'Any host or --root image; most logs need root to read. The journal export needs a live host with journalctl; on a dead ' +
    'box the journal files are copied raw (read them with journalctl --file).',
  timeoutMs: 300_000,
  row: Row,
  async *collect(ctx) {
    const seen = new Set<string>();
    for (const spec of LOG_SPECS) {
      for await (const c of candidates(ctx, spec.dir, spec.match, spec.depth ?? 1)) {
        if (ctx.signal.aborted) return;
        if (seen.has(c.path)) continue;
        seen.add(c.path);
        yield await textLog(ctx, c.path, spec.category, c.kind);
      }
    }
    if (ctx.signal.aborted) return;
    const exported = await journalExport(ctx);
    if (exported) yield exported;

    const journals: { path: string; kind: PathKind }[] = [];
    for (const dir of JOURNAL_DIRS) for await (const c of candidates(ctx, dir, JOURNAL_NAME, 3)) journals.push(c);
    // newest first, so the cap keeps the most recent entries
    journals.sort((a, b) => (b.kind.stats?.mtimeMs ?? 0) - (a.kind.stats?.mtimeMs ?? 0));
    const budget = { left: JOURNAL_TOTAL_FACTOR * ctx.settings.logMaxBytes };
    for (const j of journals) {
      if (ctx.signal.aborted) return;
      yield await journalFile(ctx, j.path, j.kind, budget);
    }
  },
});
