import { constants as C, promises as fsp, type Stats } from 'node:fs';
import path from 'node:path';
import { UserError, errnoCode } from '../lib/user-error.js';

/** Why a host read failed, in words that go into the manifest's errors. */
export class HostReadError extends Error {
  constructor(
    readonly hostPath: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HostReadError';
  }
}

export interface FileFacts {
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  ctime: Date;
  atime: Date;
  /** Absent where the filesystem does not record a birth time. */
  birthtime?: Date;
  inode: number;
}

export interface ReadResult {
  hostPath: string;
  /** The path's raw bytes, where hostPath had to escape a name that is not valid UTF-8. */
  rawHostPath?: Buffer;
  data: Buffer;
  facts: FileFacts;
  /** The file held more than maxBytes; data is the first maxBytes. */
  truncated: boolean;
  /** Size, mtime or ctime moved while reading: the copy may be inconsistent. */
  changedWhileRead: boolean;
}

export interface HostOptions {
  /** A mounted image to examine instead of the live system. */
  root?: string;
  /** A saved /proc; defaults to /proc on the live system, none for --root. */
  proc?: string;
}

const DEFAULT_MAX_READ = 64 * 1024 * 1024;
const MAX_SYMLINK_HOPS = 40;

/**
 * The examined system. Every collector reads through it, so the same code works
 * on the live host and on a mounted image (--root), and every path it reports is
 * the host's own path. Under --root, symlinks resolve inside the root the way
 * they would on the original machine, so an absolute link in the image can never
 * make us read the examiner's own /etc.
 */
export class Host {
  readonly root: string;
  readonly procRoot: string | null;
  readonly live: boolean;
  private readonly excluded: string[] = [];

  private constructor(root: string, procRoot: string | null) {
    this.root = root;
    this.procRoot = procRoot;
    this.live = root === '/';
  }

  static async open(opts: HostOptions = {}): Promise<Host> {
    const root = opts.root ? await checkedDir(opts.root, '--root') : '/';
    const proc = opts.proc ? await checkedDir(opts.proc, '--proc') : root === '/' ? '/proc' : null;
    return new Host(root, proc);
  }

  /** Keeps goldhour from collecting its own output (it may sit in /tmp on the examined host). */
  exclude(realPath: string): void {
    this.excluded.push(path.resolve(realPath));
  }

  isExcluded(realPath: string): boolean {
    return this.excluded.some((ex) => realPath === ex || realPath.startsWith(`${ex}/`));
  }

  /** The path on this machine's filesystem where a host path can be read. */
  async resolve(hostPath: string, followLast = true): Promise<string> {
    if (!hostPath.startsWith('/')) throw new HostReadError(hostPath, 'EINVAL', 'host paths must be absolute');
    if (this.live) return path.resolve(hostPath);
    return resolveConfined(this.root, hostPath, followLast);
  }

  /** The path of a file under the examined system's /proc, or null where there is none. */
  procPath(rel: string): string | null {
    return this.procRoot === null ? null : path.join(this.procRoot, rel);
  }

  async lstat(hostPath: string): Promise<Stats> {
    return wrapErrors(hostPath, async () => fsp.lstat(await this.resolve(hostPath, false)));
  }

  async readdir(hostPath: string): Promise<string[]> {
    return wrapErrors(hostPath, async () => fsp.readdir(await this.resolve(hostPath)));
  }

  async readlink(hostPath: string): Promise<string> {
    return wrapErrors(hostPath, async () => fsp.readlink(await this.resolve(hostPath, false)));
  }

  /** Reads a regular file of the host; refuses FIFOs, devices and sockets without opening them. */
  async readFile(hostPath: string, opts: { maxBytes?: number } = {}): Promise<ReadResult> {
    const real = await wrapErrors(hostPath, () => this.resolve(hostPath));
    if (this.isExcluded(real)) throw new HostReadError(hostPath, 'EXCLUDED', 'inside goldhour\'s own output');
    return readRegularFile(hostPath, real, opts.maxBytes ?? DEFAULT_MAX_READ);
  }

  /** Opens a regular file for streaming; the caller closes `fh`. Same refusals as readFile. */
  async openFile(hostPath: string): Promise<OpenedFile> {
    const real = await wrapErrors(hostPath, () => this.resolve(hostPath));
    if (this.isExcluded(real)) throw new HostReadError(hostPath, 'EXCLUDED', 'inside goldhour\'s own output');
    return openRegular(hostPath, real);
  }

  /** Reads a file under /proc (or the saved --proc). */
  async readProc(rel: string, opts: { maxBytes?: number } = {}): Promise<ReadResult> {
    const real = this.procPath(rel);
    const shown = `/proc/${rel}`;
    if (real === null) throw new HostReadError(shown, 'NOPROC', 'no /proc for this root (give --proc DIR)');
    return readRegularFile(shown, real, opts.maxBytes ?? DEFAULT_MAX_READ);
  }
}

async function checkedDir(dir: string, flag: string): Promise<string> {
  let st: Stats;
  try {
    st = await fsp.stat(dir);
  } catch (err) {
    throw new UserError(`${flag} ${dir}: ${errnoCode(err) === 'ENOENT' ? 'does not exist' : 'cannot be read'}`);
  }
  if (!st.isDirectory()) throw new UserError(`${flag} ${dir}: not a directory`);
  return fsp.realpath(dir);
}

async function wrapErrors<T>(hostPath: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HostReadError) throw err;
    const code = errnoCode(err) ?? 'EIO';
    throw new HostReadError(hostPath, code, describeErrno(code));
  }
}

function describeErrno(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'ENOTDIR':
      return 'a path component is not a directory';
    case 'ESRCH':
      return 'process has exited';
    default:
      return `read failed (${code})`;
  }
}

async function resolveConfined(root: string, hostPath: string, followLast: boolean): Promise<string> {
  const pending = hostPath.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const candidate = path.join(root, ...done, part);
    const isLast = pending.length === 0;
    let st: Stats;
    try {
      st = await fsp.lstat(candidate);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT' && isLast) return candidate;
      throw err;
    }
    if (st.isSymbolicLink() && (!isLast || followLast)) {
      if (++hops > MAX_SYMLINK_HOPS) throw new HostReadError(hostPath, 'ELOOP', 'too many symbolic links');
      const target = await fsp.readlink(candidate);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
    } else {
      done.push(part);
    }
  }
  return path.join(root, ...done);
}

function factsOf(st: Stats): FileFacts {
  const birth = st.birthtimeMs > 0 ? st.birthtime : undefined;
  return {
    size: st.size,
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    mtime: st.mtime,
    ctime: st.ctime,
    atime: st.atime,
    ...(birth ? { birthtime: birth } : {}),
    inode: st.ino,
  };
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** A regular file of the host, opened safely, for callers that stream it (large logs, executables). */
export interface OpenedFile {
  hostPath: string;
  fh: fsp.FileHandle;
  facts: FileFacts;
  /** Whether size, mtime or ctime moved since the file was opened. */
  changedSinceOpen(): Promise<boolean>;
}

async function openRegular(hostPath: string, real: string): Promise<OpenedFile> {
  const before = await wrapErrors(hostPath, () => fsp.stat(real));
  if (!before.isFile()) throw new HostReadError(hostPath, 'ENOTREG', `${kindOf(before)}, not read`);
  // O_NONBLOCK: if a FIFO was swapped in after the stat, open must not hang.
  const fh = await wrapErrors(hostPath, () => fsp.open(real, C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY));
  const opened = await fh.stat();
  if (!opened.isFile() || opened.ino !== before.ino || opened.dev !== before.dev) {
    await fh.close();
    throw new HostReadError(hostPath, 'ERACE', 'file was replaced while being opened');
  }
  return {
    hostPath,
    fh,
    facts: factsOf(opened),
    changedSinceOpen: async () => {
      const now = await fh.stat();
      return now.size !== opened.size || now.mtimeMs !== opened.mtimeMs || now.ctimeMs !== opened.ctimeMs;
    },
  };
}

async function readRegularFile(hostPath: string, real: string, maxBytes: number): Promise<ReadResult> {
  const file = await openRegular(hostPath, real);
  const { fh } = file;
  try {
    // One scratch buffer, sized to the file (pseudo-files report 0 or 4096), copied out by what each read gave:
    // /proc tables come a page per read, and a fresh 1 MiB buffer per read was 256 times the memory.
    const scratch = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(file.facts.size + 1, 64 * 1024), maxBytes + 1));
    const chunks: Buffer[] = [];
    let total = 0;
    let truncated = false;
    for (;;) {
      const want = Math.min(scratch.length, maxBytes + 1 - total);
      const { bytesRead } = await wrapErrors(hostPath, () => fh.read(scratch, 0, want, null));
      if (bytesRead === 0) break;
      chunks.push(Buffer.from(scratch.subarray(0, bytesRead)));
      total += bytesRead;
      if (total > maxBytes) {
        truncated = true;
        break;
      }
    }
    let data = Buffer.concat(chunks, total);
    if (truncated) data = data.subarray(0, maxBytes);
    const changedWhileRead =
      (await file.changedSinceOpen()) ||
      // /proc and /sys files report size 0 (or 4096) whatever they hold; only trust size elsewhere
      (!truncated && file.facts.size > 0 && !isPseudoFs(real) && data.length !== file.facts.size);
    return { hostPath, data, facts: factsOf(await fh.stat()), truncated, changedWhileRead };
  } finally {
    await fh.close();
  }
}

function isPseudoFs(real: string): boolean {
  return real.startsWith('/proc/') || real.startsWith('/sys/');
}
