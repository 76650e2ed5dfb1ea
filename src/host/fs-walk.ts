import { constants as C, lstatSync, opendirSync, readdirSync, readFileSync, type BigIntStats, type Dir, type Dirent, type Stats } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../lib/user-error.js';
import type { Host } from './host.js';
import { parseMountinfo } from './mountinfo.js';

/**
 * A directory walker for hostile trees: names are bytes (Buffers) so invalid
 * UTF-8 survives, symlinks are never followed, FIFOs and devices are never
 * opened, a directory that is its own ancestor (bind-mount loop) is entered
 * once, entries that vanish mid-walk are skipped, and a directory with a
 * million entries is streamed instead of read whole. Memory stays O(depth).
 *
 * Syscalls are made synchronously in short slices (a few ms) between which the
 * event loop runs, so timers and aborts still fire: on this kind of machine a
 * synchronous lstat costs ~6 µs against ~20 µs through libuv's thread pool,
 * and a whole-filesystem walk is dominated by exactly that.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block' | 'unknown';

export interface WalkEntry<S extends Stats | BigIntStats = Stats | BigIntStats> {
  /** The path on the examined host (never prefixed with --root). */
  hostPath: Buffer;
  /** Where this machine reads it (equal to hostPath on a live host). */
  realPath: Buffer;
  /** The final component, as bytes. */
  name: Buffer;
  type: EntryType;
  /** lstat of the entry; null when it was not asked for (see WalkOptions.stat) or it failed. */
  stat: S | null;
  depth: number;
}

export interface WalkOptions {
  /** Host paths to start from; each is resolved inside the root, duplicates and nested roots are walked once. */
  roots: string[];
  /** Which non-directory entries to lstat (directories always are), given the type readdir reported, the name and the directory's host path. Default: all. */
  stat?: (type: EntryType, name: Buffer, dirHostPath: Buffer) => boolean;
  bigint?: boolean;
  /** Which entries to yield (all by default); directories are entered whether yielded or not. Runs synchronously, so it is much cheaper than filtering yielded entries. */
  select?: (e: WalkEntry) => boolean;
  /** Whether to enter a directory (besides the walker's own checks: exclusion, mounts, loops). */
  descend?: (e: WalkEntry) => boolean;
  /** Only filesystems judged local are entered; default true. */
  localOnly?: boolean;
  maxDepth?: number;
  /** Directories at least this big (st_size) are streamed with opendir instead of read whole (default 1 MiB). */
  bigDirBytes?: number;
  signal: AbortSignal;
  onError(hostPath: Buffer, code: string, message: string): void;
}

/** Filesystem types never walked: kernel pseudo filesystems, network and FUSE mounts, read-only images. */
const SKIPPED_FS = new Set([
  'proc', 'sysfs', 'cgroup', 'cgroup2', 'debugfs', 'tracefs', 'securityfs', 'pstore', 'bpf', 'configfs', 'fusectl',
  'mqueue', 'hugetlbfs', 'devpts', 'binfmt_misc', 'autofs', 'rpc_pipefs', 'nsfs', 'efivarfs', 'selinuxfs', 'nfsd',
  'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ncpfs', 'afs', 'ceph', 'glusterfs', 'lustre', 'gfs2', 'ocfs2', '9p', 'virtiofs',
  'sshfs', 'davfs', 'squashfs', 'iso9660', 'udf', 'overlay',
]);

export function isLocalFsType(fsType: string): boolean {
  if (fsType.startsWith('fuse')) return false;
  return !SKIPPED_FS.has(fsType);
}

/**
 * Which mount points (real paths on this machine) hold filesystems not to
 * walk. This is the walking process's own view (/proc/self/mountinfo), which
 * is what the walk actually traverses, live or under --root; it is not
 * evidence. The last mount at a point wins (over-mounts).
 */
export function mountTable(): Map<string, string> | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  const table = new Map<string, string>();
  for (const m of parseMountinfo(text).mounts) table.set(m.mountPoint, m.fsType);
  return table;
}

export function entryType(d: Dirent | Stats | BigIntStats): EntryType {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isCharacterDevice()) return 'char';
  if (d.isBlockDevice()) return 'block';
  return 'unknown';
}

const SLASH = Buffer.from('/');

function join(dir: Buffer, name: Buffer): Buffer {
  return dir.length === 1 && dir[0] === 0x2f ? Buffer.concat([SLASH, name]) : Buffer.concat([dir, SLASH, name]);
}

/** Directories this size or bigger (bytes as st_size reports; ~20 bytes an entry on tmpfs) are streamed. */
const BIG_DIR_BYTES = 1024 * 1024;
const SLICE_MS = 8;

interface Frame {
  hostDir: Buffer;
  realDir: Buffer;
  depth: number;
  key: string;
  list: Dirent[] | null;
  index: number;
  dir: Dir | null;
}

export async function* walk(host: Host, opts: WalkOptions): AsyncGenerator<WalkEntry> {
  const localOnly = opts.localOnly ?? true;
  const mounts = localOnly ? mountTable() : null;
  const bigint = opts.bigint ?? false;
  const wantStat = opts.stat ?? (() => true);
  const maxDepth = opts.maxDepth ?? 512;
  const bigDir = opts.bigDirBytes ?? BIG_DIR_BYTES;
  const rootPrefix = host.live ? '' : host.root;
  const doStat = (p: Buffer): Stats | BigIntStats | undefined => (bigint ? lstatSync(p, { bigint: true, throwIfNoEntry: false }) : lstatSync(p, { throwIfNoEntry: false }));

  let sliceStart = performance.now();
  const breathe = async () => {
    if (performance.now() - sliceStart > SLICE_MS) {
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
  };
  const fail = (p: Buffer, err: unknown) => {
    const code = errnoCode(err) ?? 'EIO';
    if (code === 'ENOENT') return; // vanished mid-walk: plain absence
    opts.onError(p, code, code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `cannot be read (${code})`);
  };

  // Roots: resolve inside the root, report under the canonical host path, walk each real tree once.
  const roots: { host: Buffer; real: string }[] = [];
  for (const r of opts.roots) {
    let real: string;
    try {
      // A root that is itself a link (/tmp -> /data/tmp, /bin -> usr/bin) is followed; nothing below it is.
      real = host.live ? await realpath(r) : await host.resolve(r);
    } catch (err) {
      fail(Buffer.from(r), err);
      continue;
    }
    const canonical = host.live ? real : real.slice(rootPrefix.length) || '/';
    roots.push({ host: Buffer.from(canonical), real });
  }
  roots.sort((a, b) => a.real.length - b.real.length);
  const kept: typeof roots = [];
  for (const r of roots) {
    if (kept.some((k) => r.real === k.real || r.real.startsWith(k.real === '/' ? '/' : `${k.real}/`))) continue;
    kept.push(r);
  }

  const enterable = (hostPath: Buffer, real: Buffer, st: Stats | BigIntStats, depth: number, parentDev: string | null): boolean => {
    const realText = real.toString();
    if (host.isExcluded(realText)) return false;
    if (depth > maxDepth) {
      opts.onError(hostPath, 'EDEPTH', `deeper than ${maxDepth} levels: not walked`);
      return false;
    }
    if (localOnly) {
      const fsType = mounts?.get(realText);
      if (fsType !== undefined && !isLocalFsType(fsType)) return false;
      // Without a mount table (no /proc), stay on the starting devices except for known pseudo trees.
      if (mounts === null && parentDev !== null && String(st.dev) !== parentDev) return false;
    }
    return true;
  };

  for (const root of kept) {
    if (opts.signal.aborted) return;
    const realBuf = Buffer.from(root.real);
    const hostRoot = host.live ? realBuf : root.host;
    let st: Stats | BigIntStats | undefined;
    try {
      st = doStat(realBuf);
    } catch (err) {
      fail(root.host, err);
      continue;
    }
    if (!st) continue;
    const rootEntry: WalkEntry = { hostPath: hostRoot, realPath: realBuf, name: Buffer.from(path.basename(root.real)), type: entryType(st), stat: st, depth: 0 };
    if (!host.isExcluded(root.real) && (!opts.select || opts.select(rootEntry))) yield rootEntry;
    if (rootEntry.type !== 'dir' || !enterable(hostRoot, realBuf, st, 0, null) || (opts.descend && !opts.descend(rootEntry))) continue;

    const ancestors = new Set<string>();
    const stack: Frame[] = [];
    const open = (hostDir: Buffer, realDir: Buffer, dst: Stats | BigIntStats, depth: number): boolean => {
      const key = `${dst.dev}:${dst.ino}`;
      if (ancestors.has(key)) {
        opts.onError(hostDir, 'ELOOP', 'directory is its own ancestor (bind-mount loop): not walked again');
        return false;
      }
      try {
        const frame: Frame = { hostDir, realDir, depth, key, list: null, index: 0, dir: null };
        if (Number(dst.size) >= bigDir) frame.dir = opendirSync(realDir, { encoding: 'buffer', bufferSize: 256 } as unknown as { encoding: 'utf8' });
        else frame.list = readdirSync(realDir, { withFileTypes: true, encoding: 'buffer' }) as unknown as Dirent[];
        ancestors.add(key);
        stack.push(frame);
        return true;
      } catch (err) {
        fail(hostDir, err);
        return false;
      }
    };
    open(hostRoot, realBuf, st, 1);

    try {
      while (stack.length > 0) {
        await breathe();
        if (opts.signal.aborted) return;
        const frame = stack[stack.length - 1]!;
        let d: Dirent | null = null;
        try {
          if (frame.list) d = frame.index < frame.list.length ? frame.list[frame.index++]! : null;
          else d = frame.dir!.readSync();
        } catch (err) {
          fail(frame.hostDir, err);
          d = null;
        }
        if (d === null) {
          stack.pop();
          ancestors.delete(frame.key);
          try {
            frame.dir?.closeSync();
          } catch {
            // already closed
          }
          continue;
        }
        const name = d.name as unknown as Buffer;
        const hostPath = join(frame.hostDir, name);
        const realPath = frame.realDir === frame.hostDir ? hostPath : join(frame.realDir, name);
        let type = entryType(d);
        let est: Stats | BigIntStats | null = null;
        if (type === 'dir' || type === 'unknown' || wantStat(type, name, frame.hostDir)) {
          try {
            est = doStat(realPath) ?? null;
          } catch (err) {
            fail(hostPath, err);
            continue;
          }
          if (est === null) continue; // vanished
          type = entryType(est); // the name may have been replaced since readdir
        }
        const entry: WalkEntry = { hostPath, realPath, name, type, stat: est, depth: frame.depth };
        if (host.isExcluded(realPath.toString())) continue;
        if (!opts.select || opts.select(entry)) yield entry;
        if (type === 'dir' && est && enterable(hostPath, realPath, est, frame.depth + 1, frame.key.slice(0, frame.key.indexOf(':'))) && (!opts.descend || opts.descend(entry))) {
          open(hostPath, realPath, est, frame.depth + 1);
        }
      }
    } finally {
      for (const f of stack) {
        try {
          f.dir?.closeSync();
        } catch {
          // already closed
        }
      }
    }
  }
}

/** ls-style mode: type character then rwx with s/S, t/T. */
export function modeString(mode: number): string {
  const t = mode & C.S_IFMT;
  const typeChar =
    t === C.S_IFDIR ? 'd' : t === C.S_IFLNK ? 'l' : t === C.S_IFIFO ? 'p' : t === C.S_IFSOCK ? 's' : t === C.S_IFCHR ? 'c' : t === C.S_IFBLK ? 'b' : t === C.S_IFREG ? '-' : '?';
  const bit = (m: number, ch: string) => (mode & m ? ch : '-');
  const special = (x: number, s: number, on: string, off: string) => (mode & s ? (mode & x ? on : off) : mode & x ? 'x' : '-');
  return (
    typeChar +
    bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T')
  );
}

/** A timestamp with nanoseconds kept (timestomping tools often leave the fraction at zero). */
export function isoNs(ns: bigint): string | null {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const d = new Date(Number(sec) * 1000);
  if (Number.isNaN(d.getTime())) return null;
  const iso = d.toISOString();
  return `${iso.slice(0, iso.length - 5)}.${frac.toString().padStart(9, '0')}Z`;
}

/** Birth time, or null where the filesystem records none (statx leaves it zero). */
export function birthIso(ns: bigint): string | null {
  return ns === 0n ? null : isoNs(ns);
}
