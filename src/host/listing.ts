import { createHash } from 'node:crypto';
import { constants as C, promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import type { CollectorContext } from '../collectors/collector.js';
import { encodeHostPath } from '../lib/host-path.js';
import { errnoCode } from '../lib/user-error.js';
import { HostReadError, type Host, type ReadResult } from './host.js';
import { parsePasswd, type PasswdEntry } from './passwd.js';

/**
 * Directory listings and link chains of the examined host, for collectors that
 * walk configuration directories (cron, systemd, init scripts, autostart).
 * Names are read as bytes, so a name that is not valid UTF-8 is kept faithfully
 * (text with %XX escapes plus base64) instead of being mangled by Host.readdir.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device' | 'unknown';

export interface DirEntry {
  /** The entry's name as text (%XX for bytes that are not UTF-8). */
  name: string;
  /** The exact name bytes in base64, only when the name is not valid UTF-8. */
  nameBase64: string | null;
  /** Host path of the entry (dir + '/' + name). */
  path: string;
  /** The exact bytes of that path in base64, only when the name is not valid UTF-8. */
  pathBase64: string | null;
  /** What lstat says the entry itself is. */
  type: EntryType;
  stat: Stats | null;
  /** Where the entry can be opened on this machine, as bytes (works for any name). */
  realPath: Buffer;
}

export function typeOf(st: Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'unknown';
}

const ABSENT = new Set(['ENOENT', 'ENOTDIR']);
const MAX_ENTRIES = 100_000;

/**
 * Lists a host directory: each entry with its lstat type. Null when the
 * directory does not exist (silently) or cannot be read (recorded). Entries are
 * sorted by name bytes so rows come out in a stable order.
 */
export async function listDir(ctx: CollectorContext, dir: string): Promise<DirEntry[] | null> {
  let real: string;
  let names: Buffer[];
  try {
    real = await ctx.host.resolve(dir);
    names = await fsp.readdir(real, { encoding: 'buffer' });
  } catch (err) {
    const code = err instanceof HostReadError ? err.code : (errnoCode(err) ?? 'EIO');
    if (!ABSENT.has(code)) ctx.error(dir, code, err instanceof HostReadError ? err.message : `cannot list directory (${code})`);
    return null;
  }
  if (ctx.host.isExcluded(real)) return null;
  if (names.length > MAX_ENTRIES) {
    ctx.error(dir, 'ETOOMANY', `${names.length} entries; only the first ${MAX_ENTRIES} are examined`);
    names = names.slice(0, MAX_ENTRIES);
  }
  names.sort(Buffer.compare);
  const base = Buffer.from(real.endsWith('/') ? real : `${real}/`);
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const listed = await mapPool(names, 16, async (raw): Promise<DirEntry | null> => {
    if (ctx.signal.aborted) return null;
    const enc = encodeHostPath(raw);
    const realPath = Buffer.concat([base, raw]);
    let stat: Stats | null = null;
    try {
      stat = await fsp.lstat(realPath);
    } catch (err) {
      const code = errnoCode(err) ?? 'EIO';
      if (code === 'ENOENT') return null; // vanished between readdir and lstat
      ctx.error(prefix + enc.text, code, `cannot stat (${code})`);
    }
    return { name: enc.text, nameBase64: enc.base64 ?? null, path: prefix + enc.text, pathBase64: enc.base64 ? Buffer.concat([Buffer.from(prefix), raw]).toString('base64') : null, type: stat ? typeOf(stat) : 'unknown', stat, realPath };
  });
  const out = listed.filter((e): e is DirEntry => e !== null);
  return out;
}

/**
 * Reads a listed entry (following a symlink inside the root). Names that are
 * valid UTF-8 go through ctx.read (raw copy kept, errors recorded); for other
 * names Host cannot address the file, so a regular file is opened here by its
 * byte path without following links or blocking, and its copy kept the same way.
 */
export async function readEntry(ctx: CollectorContext, e: DirEntry, opts: { maxBytes?: number; keep?: boolean } = {}): Promise<ReadResult | null> {
  if (e.nameBase64 === null) {
    // Host reads in chunks of min(1 MiB, maxBytes): for the many small files these collectors read, a cap
    // near the size lstat gave keeps it from allocating a megabyte per file (a file that grew by more
    // than the margin since is still recorded: truncated and changed while read).
    const max = opts.maxBytes ?? 64 * 1024 * 1024;
    const hint = e.type === 'file' && e.stat ? Math.min(max, e.stat.size + 8192) : max;
    return ctx.read(e.path, { ...opts, maxBytes: hint });
  }
  if (e.type !== 'file') {
    ctx.error(e.path, 'ENAME', `a ${e.type} whose name is not valid UTF-8; not followed`);
    return null;
  }
  let fh: fsp.FileHandle | null = null;
  try {
    fh = await fsp.open(e.realPath, C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW | C.O_NOCTTY);
    const st = await fh.stat();
    if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENOTREG' });
    const max = opts.maxBytes ?? 64 * 1024 * 1024;
    const buf = Buffer.alloc(Math.min(st.size, max));
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const after = await fh.stat();
    const r: ReadResult = {
      hostPath: e.path,
      ...(e.pathBase64 ? { rawHostPath: Buffer.from(e.pathBase64, 'base64') } : {}),
      data: buf.subarray(0, got),
      facts: { size: after.size, mode: after.mode, uid: after.uid, gid: after.gid, mtime: after.mtime, ctime: after.ctime, atime: after.atime, inode: after.ino },
      truncated: st.size > max,
      changedWhileRead: after.size !== st.size || after.mtimeMs !== st.mtimeMs || after.ctimeMs !== st.ctimeMs,
    };
    if (opts.keep ?? true) await ctx.keepCopy(r);
    return r;
  } catch (err) {
    const code = errnoCode(err) ?? 'EIO';
    if (code !== 'ENOENT') ctx.error(e.path, code, `cannot read (${code})`);
    return null;
  } finally {
    await fh?.close();
  }
}

export interface LinkFacts {
  /** What the link itself says (readlink), exactly. */
  target: string;
  /** The host path the chain of links ends at (lexically resolved, hop by hop). */
  finalPath: string;
  /** Whether something exists at finalPath. */
  exists: boolean;
  /** Its type, when it exists. */
  finalType: EntryType | null;
  /** The chain loops or is longer than 40 links. */
  loop: boolean;
}

/** Follows a symlink chain hop by hop on the host (inside --root), never reading the target. */
export async function followLink(host: Host, linkPath: string): Promise<LinkFacts | null> {
  let target: string;
  try {
    target = await host.readlink(linkPath);
  } catch {
    return null;
  }
  let cur = linkPath;
  let next = target;
  for (let hop = 0; hop < 40; hop++) {
    // '..' in a relative target climbs from the directory's physical location, as the kernel does
    cur = path.posix.resolve(next.startsWith('/') ? '/' : await physicalDir(host, path.posix.dirname(cur)), next);
    let st: Stats;
    try {
      st = await host.lstat(cur);
    } catch (err) {
      const code = err instanceof HostReadError ? err.code : errnoCode(err);
      return { target, finalPath: cur, exists: false, finalType: null, loop: code === 'ELOOP' };
    }
    if (!st.isSymbolicLink()) return { target, finalPath: cur, exists: true, finalType: typeOf(st), loop: false };
    try {
      next = await host.readlink(cur);
    } catch {
      return { target, finalPath: cur, exists: false, finalType: null, loop: false };
    }
  }
  return { target, finalPath: cur, exists: false, finalType: null, loop: true };
}

/** The host path of a directory with every symlink in it resolved (inside --root); the lexical path when that fails. Remembered per Host for the run. */
const physicalCache = new WeakMap<Host, Map<string, Promise<string>>>();

function physicalDir(host: Host, dir: string): Promise<string> {
  let cache = physicalCache.get(host);
  if (!cache) physicalCache.set(host, (cache = new Map()));
  let p = cache.get(dir);
  if (!p) {
    p = physicalDirUncached(host, dir);
    cache.set(dir, p);
  }
  return p;
}

async function physicalDirUncached(host: Host, dir: string): Promise<string> {
  try {
    const real = await fsp.realpath(await host.resolve(dir));
    if (host.live) return real;
    const rel = path.relative(host.root, real);
    return rel.startsWith('..') ? dir : `/${rel}`;
  } catch {
    return dir;
  }
}

/** Facts of a file that was read, in the form rows carry them. */
export interface ReadFacts {
  sha256: string;
  size: number;
  mtime: string;
  uid: number;
  mode: string;
}

export function readFacts(r: ReadResult): ReadFacts {
  return {
    sha256: createHash('sha256').update(r.data).digest('hex'),
    size: r.facts.size,
    mtime: r.facts.mtime.toISOString(),
    uid: r.facts.uid,
    mode: octalMode(r.facts.mode),
  };
}

/** Permission bits (with setuid/setgid/sticky) as four octal digits: '0755'. */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** The first lines of a file as text (for scripts), at most `lines` lines and `maxChars` characters. */
export function firstLines(data: Buffer, lines = 10, maxChars = 2048): string {
  const head = data.subarray(0, maxChars * 4).toString('utf8');
  return head.split('\n').slice(0, lines).join('\n').slice(0, maxChars);
}

/** Whether a file looks like a binary (ELF or NUL bytes near its start) rather than a script. */
export function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 4096).includes(0);
}

/** Runs fn over items with at most `limit` at once, keeping the input order in the results. */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The examined host's accounts from its own /etc/passwd, for per-user paths
 * (home directories, spools). Not copied: the accounts collector keeps it.
 */
export async function hostUsers(ctx: CollectorContext): Promise<PasswdEntry[]> {
  const r = await ctx.read('/etc/passwd', { keep: false, maxBytes: 16 * 1024 * 1024 });
  return r ? parsePasswd(r.data.toString('utf8')).entries : [];
}

/** Users with distinct, absolute home directories (one entry per home). */
export function distinctHomes(users: PasswdEntry[]): PasswdEntry[] {
  const seen = new Set<string>();
  const out: PasswdEntry[] = [];
  for (const u of users) {
    const home = path.posix.normalize(u.home);
    if (!home.startsWith('/') || seen.has(home)) continue;
    seen.add(home);
    out.push(u);
  }
  return out;
}
