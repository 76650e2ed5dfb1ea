import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { splitLines } from '../host/crontab.js';
import type { ReadResult } from '../host/host.js';
import { parseLsbHeader, parseRcLinkName } from '../host/init-script.js';
import { firstLines, followLink, listDir, looksBinary, readEntry, readFacts, type DirEntry } from '../host/listing.js';
import { encodeHostPath } from '../lib/host-path.js';
import { defineCollector, type CollectorContext } from './collector.js';

const Row = z.object({
  kind: z
    .enum(['script', 'rc-link', 'rc-local', 'rc-local-line'])
    .describe('script: a file in /etc/init.d; rc-link: an entry of /etc/rcN.d; rc-local: /etc/rc.local itself; rc-local-line: one command line of it'),
  path: z.string().describe('path on the examined host'),
  pathBase64: z.string().nullable().describe('exact bytes of the path in base64, only when it is not valid UTF-8'),
  fileType: z.string().describe('what the directory entry itself is: file, symlink, fifo…'),
  linkTarget: z.string().nullable().describe('for a symlink: what it points to, exactly as stored'),
  linkFinal: z.string().nullable().describe('for a symlink: the host path the chain of links ends at'),
  linkExists: z.boolean().nullable().describe('for a symlink: whether that final path exists (false when dangling or looping)'),
  linkInInitD: z.boolean().nullable().describe('rc-link: whether the link ends in an init.d directory (false: it runs something from elsewhere)'),
  sha256: z.string().nullable().describe('SHA-256 of the file (for links, of what they point to when read)'),
  size: z.number().int().nullable().describe('size in bytes'),
  mtime: z.string().nullable().describe('modification time (UTC)'),
  fileUid: z.number().int().nullable().describe('numeric owner'),
  fileMode: z.string().nullable().describe('permission bits in octal'),
  executable: z.boolean().nullable().describe('whether an execute bit is set (rc.local runs only when executable)'),
  runlevel: z.string().nullable().describe('rc-link: runlevel of the directory (0-6 or S)'),
  action: z.enum(['start', 'kill']).nullable().describe('rc-link: S (start) or K (kill); null for names rc ignores'),
  order: z.number().int().nullable().describe('rc-link: the two-digit order number'),
  service: z.string().nullable().describe('rc-link: the name after S/K and the order; script: the file name'),
  lsbProvides: z.array(z.string()).nullable().describe('script: Provides: of the LSB header (null when there is no header)'),
  lsbDefaultStart: z.array(z.string()).nullable().describe('script: Default-Start: runlevels'),
  lsbShortDescription: z.string().nullable().describe('script: Short-Description:'),
  firstLines: z.string().nullable().describe('script, rc-local, rc-link outside init.d: first lines as text (null for binaries)'),
  line: z.number().int().nullable().describe('rc-local-line: 1-based line number'),
  raw: z.string().nullable().describe('rc-local-line: the line exactly as stored'),
  rawBase64: z.string().nullable().describe('rc-local-line: the line\'s bytes in base64, only when not valid UTF-8'),
  carriageReturns: z.number().int().nullable().describe('rc-local-line: carriage returns inside the line (text before them is hidden from `cat`)'),
});
type InitRow = z.infer<typeof Row>;

function blank(kind: InitRow['kind'], p: string, pBase64: string | null, fileType: string): InitRow {
  return {
    kind, path: p, pathBase64: pBase64, fileType, linkTarget: null, linkFinal: null, linkExists: null, linkInInitD: null, sha256: null, size: null,
    mtime: null, fileUid: null, fileMode: null, executable: null, runlevel: null, action: null, order: null, service: null, lsbProvides: null,
    lsbDefaultStart: null, lsbShortDescription: null, firstLines: null, line: null, raw: null, rawBase64: null, carriageReturns: null,
  };
}

const INIT_D = ['/etc/init.d', '/etc/rc.d/init.d'];
const RUNLEVELS = ['0', '1', '2', '3', '4', '5', '6', 'S'];
const RC_DIRS = [...RUNLEVELS.map((r) => ({ dir: `/etc/rc${r}.d`, runlevel: r })), ...RUNLEVELS.filter((r) => r !== 'S').map((r) => ({ dir: `/etc/rc.d/rc${r}.d`, runlevel: r }))];
const RC_LOCAL = ['/etc/rc.local', '/etc/rc.d/rc.local'];
const MAX_BYTES = 16 * 1024 * 1024;

function addFacts(row: InitRow, read: ReadResult | null, st: DirEntry['stat']): void {
  if (read) {
    const f = readFacts(read);
    Object.assign(row, { sha256: f.sha256, size: f.size, mtime: f.mtime, fileUid: f.uid, fileMode: f.mode, executable: (read.facts.mode & 0o111) !== 0 });
    if (!looksBinary(read.data)) row.firstLines = firstLines(read.data);
  } else if (st) {
    Object.assign(row, { size: st.size, mtime: st.mtime.toISOString(), fileUid: st.uid, fileMode: (st.mode & 0o7777).toString(8).padStart(4, '0'), executable: (st.mode & 0o111) !== 0 });
  }
}

async function linkCols(ctx: CollectorContext, row: InitRow, p: string): Promise<string | null> {
  const link = await followLink(ctx.host, p);
  if (!link) return null;
  row.linkTarget = encodeHostPath(Buffer.from(link.target)).text;
  row.linkFinal = link.finalPath;
  row.linkExists = link.exists;
  if (link.loop) ctx.error(p, 'ELOOP', 'symbolic link loop');
  return link.exists ? link.finalType : null;
}

/** Reads a listed entry when it is (or links to) a regular file; other kinds are recorded, never opened. */
async function readIfFile(ctx: CollectorContext, e: DirEntry, finalType: string | null): Promise<ReadResult | null> {
  const t = e.type === 'symlink' ? finalType : e.type;
  if (t === 'file') return readEntry(ctx, e, { maxBytes: MAX_BYTES });
  if (t !== null && t !== 'dir') ctx.error(e.path, 'ENOTREG', `a ${t} where a script was expected; not opened`);
  return null;
}

async function realKey(ctx: CollectorContext, dir: string): Promise<string | null> {
  try {
    return await fsp.realpath(await ctx.host.resolve(dir));
  } catch {
    return null;
  }
}

export const initScriptsCollector = defineCollector({
  name: 'init-scripts',
  title: 'SysV init scripts, rc links and rc.local',
  description:
    'Scripts in /etc/init.d (and RHEL\'s /etc/rc.d/init.d) with their LSB headers, every S/K link of /etc/rcN.d with its ' +
    'runlevel, order and target, and /etc/rc.local with each of its command lines. systemd still runs these through its ' +
    'sysv and rc-local generators. Look for scripts without an LSB header or not owned by a package, links that point ' +
    'outside init.d or dangle, and commands in rc.local. Raw copies of every script read are kept.',
  preconditions: 'Any host, live or --root.',
  timeoutMs: 30_000,
  row: Row,
  async *collect(ctx) {
    const seen = new Set<string>();
    const initDirs: string[] = [];
    for (const dir of INIT_D) {
      const key = await realKey(ctx, dir);
      if (key === null || seen.has(key)) continue;
      seen.add(key);
      initDirs.push(dir);
      for (const e of (await listDir(ctx, dir)) ?? []) {
        if (ctx.signal.aborted) return;
        const row = blank('script', e.path, e.pathBase64, e.type);
        row.service = e.name;
        const finalType = e.type === 'symlink' ? await linkCols(ctx, row, e.path) : null;
        if (e.type === 'dir') continue;
        const read = await readIfFile(ctx, e, finalType);
        addFacts(row, read, e.stat);
        if (read) {
          const lsb = parseLsbHeader(read.data.subarray(0, 64 * 1024).toString('utf8'));
          if (lsb) {
            row.lsbProvides = lsb.provides;
            row.lsbDefaultStart = lsb.defaultStart;
            row.lsbShortDescription = lsb.shortDescription;
          }
        }
        yield row;
      }
    }
    // init.d directories under both their names, for telling whether a link stays inside
    const initReal = new Set<string>();
    for (const d of INIT_D) if (await realKey(ctx, d)) initReal.add(d);

    for (const { dir, runlevel } of RC_DIRS) {
      const key = await realKey(ctx, dir);
      if (key === null || seen.has(key)) continue;
      seen.add(key);
      for (const e of (await listDir(ctx, dir)) ?? []) {
        if (ctx.signal.aborted) return;
        const row = blank('rc-link', e.path, e.pathBase64, e.type);
        row.runlevel = runlevel;
        const rc = parseRcLinkName(e.name);
        if (rc) Object.assign(row, rc);
        else row.service = e.name;
        if (e.type === 'symlink') {
          const finalType = await linkCols(ctx, row, e.path);
          row.linkInInitD = row.linkFinal !== null && initReal.has(path.posix.dirname(row.linkFinal));
          if (!row.linkInInitD && finalType !== null) addFacts(row, await readIfFile(ctx, e, finalType), null);
          else if (e.stat) Object.assign(row, { mtime: e.stat.mtime.toISOString(), fileUid: e.stat.uid });
        } else if (e.type !== 'dir') {
          row.linkInInitD = false;
          addFacts(row, await readIfFile(ctx, e, null), e.stat);
        }
        yield row;
      }
    }

    for (const file of RC_LOCAL) {
      const key = await realKey(ctx, file);
      if (key === null || seen.has(key)) continue;
      seen.add(key);
      let st;
      try {
        st = await ctx.host.lstat(file);
      } catch {
        continue;
      }
      const type = st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isFIFO() ? 'fifo' : st.isDirectory() ? 'dir' : 'unknown';
      const row = blank('rc-local', file, null, type);
      let finalType: string | null = type;
      if (type === 'symlink') finalType = await linkCols(ctx, row, file);
      let read: ReadResult | null = null;
      if (finalType === 'file') read = await ctx.read(file, { maxBytes: MAX_BYTES });
      else if (finalType !== null && finalType !== 'dir') ctx.error(file, 'ENOTREG', `a ${finalType} where rc.local was expected; not opened`);
      addFacts(row, read, st.isSymbolicLink() ? null : st);
      yield row;
      if (!read) continue;
      const lines = splitLines(read.data);
      for (let i = 0; i < lines.length; i++) {
        const raw = lines[i]!;
        const lead = raw.toString('latin1').replace(/^[ \t]+/, '');
        if (lead === '' || lead === '\r' || lead.startsWith('#')) continue;
        const enc = encodeHostPath(raw);
        const body = raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw;
        let crs = 0;
        for (const b of body) if (b === 0x0d) crs++;
        yield { ...blank('rc-local-line', file, null, type), sha256: row.sha256, line: i + 1, raw: enc.text, rawBase64: enc.base64 ?? null, carriageReturns: crs };
      }
    }
  },
});
