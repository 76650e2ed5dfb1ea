import { createHash } from 'node:crypto';
import { constants as C, promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { HostReadError, type FileFacts, type ReadResult } from '../host/host.js';
import { parsePasswd, type PasswdEntry } from '../host/passwd.js';
import { encodeHostPath } from '../lib/host-path.js';
import { errnoCode } from '../lib/user-error.js';
import type { CollectorContext } from './collector.js';

/**
 * Shared by the persistence collectors (shell-startup, preload, ssh-keys,
 * kernel-modules, pam, sudoers, binfmt, bpf): what they say about every
 * configuration file they read — where it is, what it is (a FIFO or a symlink
 * into /tmp is a fact worth a row), who owns it, its mode, and the SHA-256 of
 * the bytes that were parsed — plus directory listing by raw bytes, glob(3)
 * expansion on the host, and a small concurrency pool.
 */
export const FILE_COLUMNS = {
  path: z.string().describe('path on the examined host (invalid UTF-8 bytes written as %XX)'),
  pathBase64: z.string().nullable().describe('the raw bytes of the path in base64, only when the name is not valid UTF-8'),
  fileType: z
    .enum(['regular', 'symlink', 'directory', 'fifo', 'socket', 'device', 'missing', 'unknown'])
    .nullable()
    .describe('what the path itself is (lstat); a symlink is followed for the other facts'),
  symlinkTarget: z.string().nullable().describe('where the symlink points, as written in the link'),
  resolvedPath: z.string().nullable().describe('the path after following every symlink (inside --root), when it differs from path'),
  owner: z.string().nullable().describe("owning user name from the examined host's passwd, else the uid as text"),
  ownerUid: z.number().int().nullable().describe('owning uid'),
  mode: z.string().nullable().describe('permission bits in octal (0644; setuid/setgid/sticky included)'),
  size: z.number().int().nullable().describe('size in bytes'),
  mtime: z.string().nullable().describe('last modification time (UTC); intruders often backdate it, compare with ctime in the manifest'),
  sha256: z.string().nullable().describe('SHA-256 of the bytes read (null when unreadable; see the manifest errors)'),
};

export type FileColumns = { [K in keyof typeof FILE_COLUMNS]: z.infer<(typeof FILE_COLUMNS)[K]> };
type FileType = NonNullable<FileColumns['fileType']>;

export const NO_FILE: FileColumns = {
  path: '',
  pathBase64: null,
  fileType: null,
  symlinkTarget: null,
  resolvedPath: null,
  owner: null,
  ownerUid: null,
  mode: null,
  size: null,
  mtime: null,
  sha256: null,
};

export const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const octalMode = (mode: number) => (mode & 0o7777).toString(8).padStart(4, '0');

export function fileTypeOf(st: Stats): FileType {
  if (st.isFile()) return 'regular';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return 'unknown';
}

/** The examined host's accounts (read without a raw copy: the accounts collector keeps /etc/passwd). */
export async function readUsers(ctx: CollectorContext): Promise<{ entries: PasswdEntry[]; names: Map<number, string> }> {
  const read = await ctx.read('/etc/passwd', { keep: false, maxBytes: 16 * 1024 * 1024 });
  const entries = read ? parsePasswd(read.data.toString('utf8')).entries : [];
  const names = new Map<number, string>();
  for (const e of entries) if (!names.has(e.uid)) names.set(e.uid, e.name);
  return { entries, names };
}

/** lstat through the Host; null when the path does not exist, errors other than absence are recorded. */
export async function lstatHost(ctx: CollectorContext, hostPath: string): Promise<Stats | null> {
  try {
    return await ctx.host.lstat(hostPath);
  } catch (err) {
    if (!(err instanceof HostReadError)) throw err;
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') ctx.error(hostPath, err.code, err.message);
    return null;
  }
}

/** The host path of a path on this machine under --root. */
function hostPathOf(ctx: CollectorContext, real: string): string {
  const rel = path.relative(ctx.host.root, real);
  return rel === '' ? '/' : `/${rel}`;
}

/** The host path a path ends up at after following symlinks (inside the root for --root), or null if it cannot be resolved. */
export async function resolvedHostPath(ctx: CollectorContext, hostPath: string): Promise<string | null> {
  try {
    if (ctx.host.live) return await fsp.realpath(hostPath);
    const real = await ctx.host.resolve(hostPath);
    const rel = path.relative(ctx.host.root, real);
    return rel === '' ? '/' : `/${rel}`;
  } catch {
    return null;
  }
}

export interface DescribedFile {
  columns: FileColumns;
  read: ReadResult | null;
}

/**
 * Reads one file and describes it: a row's file columns plus the bytes (null
 * when missing or unreadable; unreadable files are recorded in the manifest by
 * ctx.read). A raw copy is kept unless keep is false. Null when the path does not exist.
 */
export async function describeFile(
  ctx: CollectorContext,
  hostPath: string,
  names: Map<number, string>,
  opts: { keep?: boolean; maxBytes?: number } = {},
): Promise<DescribedFile | null> {
  // One walk of the path gives the lstat and (for a path whose directories are symlinks, like a home
  // linked elsewhere) where it really is; only a final symlink needs a second walk.
  let real: string;
  let lst: Stats;
  try {
    real = await ctx.host.resolve(hostPath, false);
    lst = await fsp.lstat(real);
  } catch (err) {
    const code = err instanceof HostReadError ? err.code : (errnoCode(err) ?? 'EIO');
    if (code !== 'ENOENT' && code !== 'ENOTDIR') ctx.error(hostPath, code, `not examined (${code})`);
    return null;
  }
  const columns: FileColumns = { ...NO_FILE, path: hostPath, fileType: fileTypeOf(lst) };
  let st: Stats | null = lst;
  let resolved: string | null;
  if (lst.isSymbolicLink()) {
    columns.symlinkTarget = await fsp.readlink(real).catch(() => null);
    resolved = await resolvedHostPath(ctx, hostPath);
    try {
      st = await fsp.stat(await ctx.host.resolve(hostPath));
    } catch (err) {
      st = null; // a dangling link is a fact in itself (fileType symlink, no owner); a loop is recorded
      const code = err instanceof HostReadError ? err.code : (errnoCode(err) ?? 'EIO');
      if (code !== 'ENOENT' && code !== 'ENOTDIR') ctx.error(hostPath, code, `symlink not followed (${code})`);
    }
  } else {
    resolved = ctx.host.live ? await resolvedHostPath(ctx, hostPath) : hostPathOf(ctx, real);
  }
  if (resolved !== null && resolved !== hostPath) columns.resolvedPath = resolved;
  if (st) Object.assign(columns, ownership(st, names));
  let read: ReadResult | null = null;
  if (st?.isFile()) {
    read = await ctx.read(hostPath, { keep: opts.keep ?? true, maxBytes: opts.maxBytes ?? 16 * 1024 * 1024 });
    if (read) {
      columns.sha256 = sha256Hex(read.data);
      Object.assign(columns, ownership(read.facts, names));
    }
  } else if (st && !st.isDirectory()) {
    ctx.error(hostPath, 'ENOTREG', `${columns.fileType === 'symlink' ? 'symlink to ' : ''}${describeType(st)}, not read`);
  }
  return { columns, read };
}

function describeType(st: Stats): string {
  const t = fileTypeOf(st);
  return t === 'fifo' ? 'a FIFO' : t === 'socket' ? 'a socket' : t === 'device' ? 'a device' : `not a regular file (${t})`;
}

function ownership(st: Pick<FileFacts, 'uid' | 'mode' | 'size' | 'mtime'>, names: Map<number, string>) {
  return { owner: names.get(st.uid) ?? String(st.uid), ownerUid: st.uid, mode: octalMode(st.mode), size: st.size, mtime: st.mtime.toISOString() };
}

export interface ListedEntry {
  hostPath: string;
  name: string;
  /** The raw name bytes, only when the name is not valid UTF-8. */
  rawName: Buffer | null;
}

/**
 * Lists a host directory by raw bytes, sorted in byte order (as the tools that
 * read these directories do). Missing directories give []; other failures are
 * recorded. Names that are not valid UTF-8 are kept (rawName).
 */
export async function listDir(ctx: CollectorContext, dir: string): Promise<ListedEntry[]> {
  let raw: Buffer[];
  try {
    const real = await ctx.host.resolve(dir);
    raw = await fsp.readdir(real, { encoding: 'buffer' });
  } catch (err) {
    const code = err instanceof HostReadError ? err.code : (errnoCode(err) ?? 'EIO');
    if (code !== 'ENOENT' && code !== 'ENOTDIR') ctx.error(dir, code, `directory not listed (${code})`);
    return [];
  }
  raw.sort(Buffer.compare);
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return raw.map((b) => {
    const enc = encodeHostPath(b);
    return { hostPath: base + enc.text, name: enc.text, rawName: enc.base64 ? b : null };
  });
}

/**
 * Reads a directory entry whose name is not valid UTF-8 (the Host takes string
 * paths, so it cannot open it by name): only a regular file, opened without
 * following a final symlink and without blocking. A raw copy is kept under the
 * escaped name. Needed until Host accepts Buffer paths.
 */
export async function describeRawEntry(
  ctx: CollectorContext,
  dir: string,
  entry: ListedEntry,
  names: Map<number, string>,
  maxBytes = 16 * 1024 * 1024,
): Promise<DescribedFile | null> {
  if (!entry.rawName) return describeFile(ctx, entry.hostPath, names, { maxBytes });
  const columns: FileColumns = {
    ...NO_FILE,
    path: entry.hostPath,
    pathBase64: Buffer.concat([Buffer.from(`${dir.replace(/\/$/, '')}/`), entry.rawName]).toString('base64'),
  };
  let fh: fsp.FileHandle | null = null;
  try {
    const realDir = await ctx.host.resolve(dir);
    const p = Buffer.concat([Buffer.from(`${realDir}/`), entry.rawName]);
    const lst = await fsp.lstat(p);
    columns.fileType = fileTypeOf(lst);
    Object.assign(columns, ownership(lst, names));
    if (!lst.isFile()) {
      if (!lst.isDirectory()) ctx.error(entry.hostPath, 'ENOTREG', `${describeType(lst)} with a name that is not valid UTF-8, not read`);
      return { columns, read: null };
    }
    fh = await fsp.open(p, C.O_RDONLY | C.O_NONBLOCK | C.O_NOFOLLOW | C.O_NOCTTY);
    const st = await fh.stat();
    if (!st.isFile() || st.ino !== lst.ino) throw Object.assign(new Error('file was replaced while being opened'), { code: 'ERACE' });
    const want = Math.min(st.size, maxBytes);
    const buf = Buffer.alloc(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const after = await fh.stat();
    const data = buf.subarray(0, got);
    const read: ReadResult = {
      hostPath: entry.hostPath,
      data,
      facts: { size: st.size, mode: st.mode, uid: st.uid, gid: st.gid, mtime: st.mtime, ctime: st.ctime, atime: st.atime, inode: st.ino },
      truncated: st.size > maxBytes,
      changedWhileRead: after.size !== st.size || after.mtimeMs !== st.mtimeMs || after.ctimeMs !== st.ctimeMs,
    };
    await ctx.keepCopy(read);
    columns.sha256 = sha256Hex(data);
    return { columns, read };
  } catch (err) {
    const code = errnoCode(err) ?? 'EIO';
    if (code !== 'ENOENT') ctx.error(entry.hostPath, code, `not read (${code})`);
    return columns.fileType ? { columns, read: null } : null;
  } finally {
    await fh?.close();
  }
}

/** Lines of a file as raw bytes, split on \n only (a \r stays in the line: it hides text from `cat`). */
export function rawLines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = data.indexOf(0x0a, start);
    if (nl === -1) {
      if (start < data.length) out.push(data.subarray(start));
      return out;
    }
    out.push(data.subarray(start, nl));
    start = nl + 1;
  }
}

/** A raw line as JSON-safe text plus its base64 when it is not valid UTF-8 (so nothing is lost). */
export function lineText(raw: Buffer): { text: string; base64: string | null } {
  const e = encodeHostPath(raw);
  return { text: e.text, base64: e.base64 ?? null };
}

/** Runs fn over items with at most `limit` in flight, keeping results in order (unfinished slots stay undefined after an abort). */
export async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>, signal?: AbortSignal): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal?.aborted) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A glob(3) pattern component as a RegExp: * ? [...]; as without GLOB_PERIOD, a leading wildcard never matches a leading dot. */
export function globToRegExp(component: string): RegExp {
  let re = '';
  for (let i = 0; i < component.length; i++) {
    const c = component[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = component.indexOf(']', i + 2);
      if (close === -1) re += '\\[';
      else {
        let body = component.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else if (c === '\\' && i + 1 < component.length) {
      re += component[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  const leadingWild = /^[*?[]/.test(component);
  try {
    return new RegExp(`^${leadingWild ? '(?!\\.)' : ''}${re}$`, 's');
  } catch {
    return /(?!)/;
  }
}

const hasWildcard = (s: string) => /[*?[]/.test(s);

/** Expands an absolute glob pattern on the host, sorted; names that are not valid UTF-8 are recorded, not returned. */
export async function globHost(ctx: CollectorContext, pattern: string): Promise<string[]> {
  const parts = pattern.split('/').filter(Boolean);
  let current = ['/'];
  for (const part of parts) {
    const next: string[] = [];
    for (const dir of current) {
      const base = dir === '/' ? '' : dir;
      if (!hasWildcard(part)) {
        next.push(`${base}/${part.replace(/\\(.)/g, '$1')}`);
        continue;
      }
      const re = globToRegExp(part);
      for (const e of await listDir(ctx, dir)) {
        if (e.name === '.' || e.name === '..' || !re.test(e.name)) continue;
        if (e.rawName) {
          ctx.error(e.hostPath, 'EBADNAME', `matches ${pattern} but its name is not valid UTF-8 (raw name base64 ${e.rawName.toString('base64')}); not read`);
          continue;
        }
        next.push(e.hostPath);
      }
    }
    current = next;
  }
  const exists = await Promise.all(current.map(async (p) => (await lstatHost(ctx, p)) !== null));
  return current.filter((_, i) => exists[i]).sort();
}

/**
 * Answers "does this path exist?" from one listing of its directory, so that
 * looking for a dozen start-up or key files in thousands of homes costs a
 * readdir per directory instead of an lstat per candidate (most of which are
 * missing). false: the directory lists no such name (or is missing); true: it
 * does; null: the directory could not be listed (let the caller stat it and record why).
 */
export class DirCache {
  private readonly listings = new Map<string, Promise<Set<string> | null | 'missing'>>();

  constructor(private readonly ctx: CollectorContext) {}

  private list(dir: string): Promise<Set<string> | null | 'missing'> {
    let p = this.listings.get(dir);
    if (!p) {
      p = (async () => {
        try {
          const real = await this.ctx.host.resolve(dir);
          return new Set(await fsp.readdir(real));
        } catch (err) {
          const code = err instanceof HostReadError ? err.code : errnoCode(err);
          return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : null;
        }
      })();
      this.listings.set(dir, p);
    }
    return p;
  }

  async has(hostPath: string): Promise<boolean | null> {
    const slash = hostPath.lastIndexOf('/');
    const parent = slash <= 0 ? '/' : hostPath.slice(0, slash);
    // a missing parent answers for all its would-be children from one listing higher up
    if (parent !== '/' && (await this.has(parent)) === false) return false;
    const listing = await this.list(parent);
    if (listing === 'missing') return false;
    return listing === null ? null : listing.has(hostPath.slice(slash + 1));
  }
}

/** Runs fn over items a batch at a time (each batch concurrently) and yields results in order, so rows never pile up in memory. */
export async function* inBatches<T, R>(items: readonly T[], size: number, fn: (t: T) => Promise<R>, signal?: AbortSignal): AsyncGenerator<R> {
  for (let i = 0; i < items.length && !signal?.aborted; i += size) {
    for (const r of await Promise.all(items.slice(i, i + size).map(fn))) yield r;
  }
}
